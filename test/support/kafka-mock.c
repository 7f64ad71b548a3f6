/*
 * Kafka wire-protocol broker for tests, backed by librdkafka's mock cluster.
 * Needs: apt-get install -y librdkafka-dev
 * Build: gcc -O1 -o kafka-mock kafka-mock.c -lrdkafka
 *
 * Usage: kafka-mock [broker_count]   (default 1)
 * Prints "BOOTSTRAP host:port[,host:port...]" once ready, then reads stdin:
 *   down | up                  all brokers down/up, answers "OK"
 *   create <topic> <parts>     create a topic with <parts> partitions, answers
 *                              "OK" (auto-created topics get 4 partitions; the
 *                              mock does not support the CreateTopics API)
 *   quit (or EOF)              exit
 * Exiting on EOF means the broker dies with whatever process holds its stdin.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

int main(int argc, char **argv) {
        int broker_cnt = argc > 1 ? atoi(argv[1]) : 1;
        char errstr[512], line[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *rk;
        rd_kafka_mock_cluster_t *mc;

        if (broker_cnt < 1) {
                fprintf(stderr, "broker count must be >= 1\n");
                return 2;
        }
        /* Only warnings/errors from the owning handle's own logging. */
        rd_kafka_conf_set(conf, "log_level", "4", NULL, 0);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "rd_kafka_new: %s\n", errstr);
                return 1;
        }
        mc = rd_kafka_mock_cluster_new(rk, broker_cnt);
        if (!mc) {
                fprintf(stderr, "rd_kafka_mock_cluster_new failed\n");
                return 1;
        }

        printf("BOOTSTRAP %s\n", rd_kafka_mock_cluster_bootstraps(mc));
        fflush(stdout);

        while (fgets(line, sizeof(line), stdin)) {
                char topic[256];
                int parts;
                line[strcspn(line, "\r\n")] = '\0';
                if (!strcmp(line, "down")) {
                        rd_kafka_mock_broker_set_down(mc, -1);
                        puts("OK");
                } else if (!strcmp(line, "up")) {
                        rd_kafka_mock_broker_set_up(mc, -1);
                        puts("OK");
                } else if (sscanf(line, "create %255s %d", topic, &parts) == 2) {
                        rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(
                            mc, topic, parts, broker_cnt < 3 ? broker_cnt : 3);
                        if (err)
                                printf("ERR %s\n", rd_kafka_err2str(err));
                        else
                                puts("OK");
                } else if (!strcmp(line, "quit")) {
                        break;
                } else if (line[0]) {
                        printf("ERR unknown command: %s\n", line);
                }
                fflush(stdout);
        }

        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
        return 0;
}
