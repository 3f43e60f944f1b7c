# Multi-stage build: a static binary on distroless, running as non-root.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG REVISION=unknown
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/prometheus/common/version.Version=${VERSION} -X github.com/prometheus/common/version.Revision=${REVISION}" \
      -o /out/asana_exporter . \
 && /out/asana_exporter --version

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
