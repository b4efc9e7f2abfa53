# syntax=docker/dockerfile:1
# Multi-stage build: a static codebridge binary on distroless, as non-root.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=docker
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/codebridge ./cmd/codebridge

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/codebridge /usr/local/bin/codebridge
USER nonroot:nonroot
EXPOSE 8080 2575
# distroless has no shell or curl: the binary checks its own health.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/codebridge", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/codebridge"]
CMD ["serve"]
