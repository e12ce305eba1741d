package threadingmodels

import "fmt"

// The mapping diagrams: user threads on top, kernel threads in the middle,
// CPUs at the bottom. The geometry is fixed here so the template only
// draws; assets/page.js lights the kernel threads and CPUs
// the experiment measured.

// node is one circle or box of a diagram, centred on X, Y.
type node struct {
	X, Y  int
	Label string
}

// link joins a user thread to the kernel thread it runs on.
type link struct{ X1, Y1, X2, Y2 int }

// mapping is the diagram of one model.
type mapping struct {
	Key, Name, Title, Desc string
	Users, Threads, CPUs   []node
	Links                  []link
}

const (
	userY, threadY, cpuY = 44, 128, 212
	diagramUsers         = 5
)

func userX(i int) int { return 40 + 55*i }

// mappings returns the three diagrams for a host with cpus usable CPUs
// (at most four are drawn).
func mappings(cpus int) []mapping {
	cpus = min(max(cpus, 1), 4)
	var users []node
	for i := range diagramUsers {
		label := fmt.Sprintf("T%d", i+1)
		if i == diagramUsers-1 {
			label = "R"
		}
		users = append(users, node{userX(i), userY, label})
	}
	var cpuNodes []node
	for i := range cpus {
		cpuNodes = append(cpuNodes, node{150 + (2*i-(cpus-1))*34, cpuY, fmt.Sprintf("CPU %d", i)})
	}
	// spread places n kernel threads evenly under the users.
	spread := func(n int) []node {
		var out []node
		for i := range n {
			out = append(out, node{150 + (2*i-(n-1))*40, threadY, fmt.Sprintf("K%d", i+1)})
		}
		return out
	}
	links := func(threads []node, of func(u int) int) []link {
		var out []link
		for u := range users {
			t := threads[of(u)]
			out = append(out, link{users[u].X, users[u].Y + 14, t.X, t.Y - 13})
		}
		return out
	}

	one := make([]node, diagramUsers)
	for i := range one {
		one[i] = node{userX(i), threadY, fmt.Sprintf("K%d", i+1)}
	}
	n1 := spread(1)
	mn := spread(2)
	return []mapping{
		{Key: "1to1", Name: "1:1", Title: "1:1 — one kernel thread per user thread",
			Desc:  "Five user threads, each joined to a kernel thread of its own; the kernel schedules all five kernel threads onto the CPUs.",
			Users: users, Threads: one, CPUs: cpuNodes, Links: links(one, func(u int) int { return u })},
		{Key: "nto1", Name: "N:1", Title: "N:1 — every user thread on one kernel thread",
			Desc:  "Five user threads all joined to a single kernel thread, which the kernel can put on only one CPU at a time.",
			Users: users, Threads: n1, CPUs: cpuNodes, Links: links(n1, func(int) int { return 0 })},
		{Key: "mton", Name: "M:N", Title: "M:N — many user threads over a few kernel threads",
			Desc:  "Five user threads shared among two kernel threads by a scheduler in the program; the kernel puts the two kernel threads on the CPUs.",
			Users: users, Threads: mn, CPUs: cpuNodes, Links: links(mn, func(u int) int { return u * 2 / diagramUsers })},
	}
}
