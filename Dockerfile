# The Replicant image: `replicant <dev|origin|fanout|gateway>` (docs/deploy.md, "The container image").
#
#   docker build -t replicant .
#   docker run --rm -p 8080:8080 --read-only replicant dev
#
# The build steps are scripts/build-image.sh (tested by cli/test/image.test.ts without a Docker
# engine): npm ci from the committed lock, build, prune to production dependencies, lay out /app.
ARG NODE_IMAGE=node:20-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY . .
RUN scripts/build-image.sh /src /out

FROM ${NODE_IMAGE}
# A fixed non-root uid/gid (the chart's securityContext and fsGroup name it); no home, no shell.
RUN groupadd --system --gid 10001 replicant \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin replicant \
 && mkdir /data \
 && chown 10001:10001 /data
COPY --from=build /out /app
WORKDIR /app
# HOST: a container is reached through its interfaces, not its loopback. DATA_DIR: `replicant dev`'s
# embedded log and snapshots, the only place the process writes (the root filesystem may be
# read-only); mount a volume there to keep them.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    DATA_DIR=/data \
    PATH=/app/bin:$PATH
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["replicant"]
CMD ["dev"]
