# Portico's image: built on Debian bookworm with Debian's packages, run on a slim bookworm with
# only the runtime libraries, as an unprivileged user (the Deployment binds 80/443 through
# NET_BIND_SERVICE). Build: docker build -t portico:latest .
FROM debian:bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends g++ meson ninja-build pkg-config cmake python3 \
      libcpprest-dev libssl-dev libyaml-cpp-dev nlohmann-json3-dev prometheus-cpp-dev \
      doctest-dev libcli11-dev libnghttp2-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN meson setup /build --buildtype=release -Dtests=disabled -Dintegration_tests=false \
 && ninja -C /build portico \
 && strip /build/portico

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 libcpprest2.10 \
      libyaml-cpp0.7 libprometheus-cpp-core1.0 libnghttp2-14 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/portico /usr/bin/portico
COPY crds/ /usr/share/portico/crds/
USER 65532:65532
EXPOSE 80 443 10254
ENTRYPOINT ["/usr/bin/portico"]
CMD ["operator", "--leader-elect"]
