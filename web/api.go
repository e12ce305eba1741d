package web

import (
	"encoding/json"
	"net/http"
	"runtime"

	"conclab/internal/engine"
	"conclab/internal/lab"
	"conclab/internal/probe"
)

func healthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
}

func experimentsJSON(reg *lab.Registry) http.Handler {
	list := reg.Describe()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { writeJSON(w, list) })
}

func hostJSON(h probe.Host) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { writeJSON(w, h) })
}

// statsJSON reports the queue and the server's own memory, for instructors
// checking that the server holds their class.
func statsJSON(s interface{ Stats() engine.Stats }) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, _ := probe.Self()
		writeJSON(w, map[string]any{
			"runs":           s.Stats(),
			"rss_bytes":      st.RSS,
			"peak_rss_bytes": st.PeakRSS,
			"goroutines":     runtime.NumGoroutine(),
		})
	})
}

// hostsJSON lists the measuring hosts: name, facts, state (idle,
// measuring, gone), the run it measures, the runs it finished, when it
// was last heard from.
func hostsJSON(s interface{ Hosts() []engine.HostInfo }) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { writeJSON(w, s.Hosts()) })
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
