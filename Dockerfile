# livecheck server image on Debian 12 (bookworm), with the same Debian packages
# the tests use. Not exercised by the test suite (no Docker engine on CI).
FROM golang:1.26-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
      pkg-config libopencv-dev libopencv-contrib-dev libdlib-dev libvpx-dev libopus-dev npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN go build -trimpath -ldflags="-s -w" -o /out/livecheck ./server
# The face recogniser, converted from the pinned npm package (checksummed).
RUN cd /tmp && npm pack --ignore-scripts --silent @vladmandic/face-api@1.7.15 \
    && cd /src && go run ./internal/faceid/cmd/facemodel -tarball /tmp/vladmandic-face-api-1.7.15.tgz -out /out/face/dlib-resnet-128.onnx

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      ca-certificates libopencv-core406 libopencv-imgproc406 libopencv-objdetect406 libopencv-dnn406 libopencv-contrib406 \
      libopencv-dev opencv-data libdlib19.1 libdlib-data libblas3 liblapack3 libvpx7 libopus0 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/livecheck /usr/local/bin/livecheck
COPY --from=build /out/face/dlib-resnet-128.onnx /usr/local/share/livecheck/face/dlib-resnet-128.onnx
ENV LIVECHECK_FACE_MODEL=/usr/local/share/livecheck/face/dlib-resnet-128.onnx
USER nobody
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/livecheck"]
CMD ["serve"]
