# Server mode's image, for those who build with Docker: `docker build -t callback .` (add
# --platform linux/amd64 for x86). `make image` builds the same image without Docker: the same
# binary, alone on an empty base with /tmp, as user 65532, listening on 0.0.0.0:8080.
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETARCH
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=linux GOARCH=$TARGETARCH go build -tags fallbackroots -trimpath -ldflags='-s -w' \
    -o /callback ./functions/callback
# Where the server spills the parts of a callback that outgrow its memory budget.
RUN mkdir -p /rootfs/tmp && chmod 1777 /rootfs/tmp

FROM scratch
COPY --from=build /callback /callback
COPY --from=build /rootfs/ /
# ECS on Fargate mounts the task's storage on a VOLUME path with the image's permissions there.
VOLUME ["/tmp"]
USER 65532:65532
ENV LISTEN_ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/callback"]
