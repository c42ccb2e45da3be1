#!/usr/bin/env bash
# Fetch a pinned Apache Kafka (KRaft broker + storage tool) as Maven artifacts and cache the jars.
#
# Why Maven and not the release tarball: Maven Central is the one Java registry the project may
# use, and `dependency:copy-dependencies` gives exactly the run-time classpath of kafka_2.13 plus
# a logging binding. Idempotent: when the cache directory already holds the jars (and the marker
# written after a complete copy), nothing is fetched. testkit/src/kafka.ts reads the same path.
#
# Env: KAFKA_VERSION (default below), REPLICANT_CACHE (default ~/.cache/replicant).
set -euo pipefail

KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
LOG4J_VERSION="2.24.3"
CACHE="${REPLICANT_CACHE:-$HOME/.cache/replicant}"
DEST="$CACHE/kafka-$KAFKA_VERSION"
LIBS="$DEST/libs"

if [ -f "$DEST/.complete" ] && ls "$LIBS"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null 2>&1; then
  echo "kafka $KAFKA_VERSION: cached in $LIBS"
  exit 0
fi

command -v mvn >/dev/null || { echo "install-kafka: mvn not found (install maven)" >&2; exit 1; }
command -v java >/dev/null || { echo "install-kafka: java not found (install openjdk-17-jre-headless)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat >"$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>replicant</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <!-- the KRaft broker/controller (kafka.Kafka) and the storage formatter (kafka.tools.StorageTool) -->
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <!-- Kafka 4 logs through SLF4J 1.7 to Log4j 2 (as its release tarball ships); without a binding
         the broker prints nothing, and the test kit waits for its "started" line -->
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
</project>
POM

rm -rf "$LIBS"
mkdir -p "$LIBS"
echo "kafka $KAFKA_VERSION: fetching jars from Maven Central into $LIBS"
mvn -q -B -Dstyle.color=never -f "$work/pom.xml" dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$LIBS"
touch "$DEST/.complete"
echo "kafka $KAFKA_VERSION: $(ls "$LIBS" | wc -l) jars in $LIBS"
