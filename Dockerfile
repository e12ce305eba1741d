# Concurrency Lab in a container: one binary on a small Debian image
# that still has what every experiment needs (python3 for the GIL
# experiment, coreutils' /bin/true as the bare process-spawn reference).
#
#   docker build -t conclab .
#   docker run --rm -p 8080:8080 -v conclab-data:/data conclab
#
# Runs are kept in the /data volume (an SQLite file, conclab.db); name a
# volume, as above, to keep them when the container is replaced.
#
# Give it the CPUs you want measured (e.g. --cpus 2 or --cpuset-cpus 0,1);
# the host panel shows what the container sees.
#
# Open the course to measuring hosts on other machines, and run the
# container as one of them:
#
#   docker run --rm -p 8080:8080 -p 4222:4222 -v conclab-data:/data conclab \
#       serve --addr 0.0.0.0:8080 --data /data --worker-listen 0.0.0.0:4222
#   docker run --rm conclab worker --join nats://SERVER:4222 --token TOKEN --name lab-pc-07

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Built with cgo, as `go run` builds it on a desktop: its OS threads are then
# pthreads with the usual 8 MiB stack reservation that the processes-vs-threads
# lesson measures. The runtime image is the same Debian release, so the C
# library matches.
RUN go build -trimpath -ldflags="-s -w" -o /out/conclab ./cmd/conclab

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 tini \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin conclab \
 && mkdir /data && chown conclab:conclab /data
COPY --from=build /out/conclab /usr/local/bin/conclab
USER conclab
VOLUME /data
EXPOSE 8080 4222
# tini reaps any stray process as PID 1; conclab also reaps its own runs.
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/conclab"]
CMD ["serve", "--addr", "0.0.0.0:8080", "--data", "/data"]
