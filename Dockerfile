# Multi-stage build: a static binary on distroless, running as non-root.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The same recipe as `make build`, so the image's asana_exporter_build_info
# matches a local build's. .git is not in the build context, so `make
# docker` passes the revision and branch in.
ARG VERSION
ARG REVISION=unknown
ARG BRANCH=unknown
RUN make build VERSION="${VERSION:-$(cat VERSION)}" REVISION="${REVISION}" BRANCH="${BRANCH}" \
 && mkdir -p /out && mv asana_exporter /out/ && /out/asana_exporter --version

FROM gcr.io/distroless/static-debian12:nonroot
LABEL org.opencontainers.image.title="asana_exporter" \
      org.opencontainers.image.description="Prometheus exporter for Asana seats: licensed, view-only, guest and inactive workspace memberships"
COPY --from=build /out/asana_exporter /bin/asana_exporter
COPY config.example.yml /etc/asana_exporter/config.example.yml
# distroless's nonroot user (65532). Mount the token as a file, e.g. a
# Kubernetes secret at /etc/asana_exporter/token, and pass
# --asana.token-file=/etc/asana_exporter/token.
USER 65532:65532
EXPOSE 9861
ENTRYPOINT ["/bin/asana_exporter"]
