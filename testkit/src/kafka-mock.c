/*
 * A librdkafka mock Kafka cluster as a child process for tests (see kafka-mock.ts).
 *
 * usage: kafka-mock <brokers> [<topic> <partitions>]...
 * Prints the bootstrap list on one line, then serves commands read from stdin, one per line,
 * answering "ok" or "error <message>" to each:
 *   down <brokerId> | up <brokerId>          disconnect a broker / accept connections again
 *   topic <name> <partitions>                create a topic (replication factor min(3, brokers))
 *   leader <topic> <partition> <brokerId>    move a partition's leadership
 * Exits 0 on stdin EOF (the parent closed the pipe or died).
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int replication;

static void reply(rd_kafka_resp_err_t err) {
  if (err) printf("error %s\n", rd_kafka_err2str(err));
  else printf("ok\n");
  fflush(stdout);
}

int main(int argc, char **argv) {
  char errstr[512], line[1024], name[512];
  int brokers = argc > 1 ? atoi(argv[1]) : 3;
  if (brokers < 1 || argc % 2 != 0) {
    fprintf(stderr, "usage: kafka-mock <brokers> [<topic> <partitions>]...\n");
    return 2;
  }
  replication = brokers < 3 ? brokers : 3;
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
    fprintf(stderr, "kafka-mock: %s\n", errstr);
    return 1;
  }
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) {
    fprintf(stderr, "kafka-mock: rd_kafka_new: %s\n", errstr);
    return 1;
  }
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
  if (!mc) {
    fprintf(stderr, "kafka-mock: could not create the mock cluster\n");
    return 1;
  }
  for (int i = 2; i + 1 < argc; i += 2) {
    rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mc, argv[i], atoi(argv[i + 1]), replication);
    if (err) {
      fprintf(stderr, "kafka-mock: topic %s: %s\n", argv[i], rd_kafka_err2str(err));
      return 1;
    }
  }
  printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
  fflush(stdout);

  while (fgets(line, sizeof line, stdin)) {
    int id, n;
    if (sscanf(line, "down %d", &id) == 1) reply(rd_kafka_mock_broker_set_down(mc, id));
    else if (sscanf(line, "up %d", &id) == 1) reply(rd_kafka_mock_broker_set_up(mc, id));
    else if (sscanf(line, "topic %511s %d", name, &n) == 2) reply(rd_kafka_mock_topic_create(mc, name, n, replication));
    else if (sscanf(line, "leader %511s %d %d", name, &n, &id) == 3)
      reply(rd_kafka_mock_partition_set_leader(mc, name, n, id));
    else {
      printf("error unknown command\n");
      fflush(stdout);
    }
  }
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
