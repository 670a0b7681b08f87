#!/bin/sh
# java with Kafka's jars on the class path, reading the variables of the distribution's kafka-run-class.sh.
# The tools' defaults start a short-lived JVM cheaply (serial GC, C1 only): the healthcheck runs one.
exec java ${KAFKA_HEAP_OPTS:--Xmx256M} \
  ${KAFKA_JVM_PERFORMANCE_OPTS:--XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true} \
  ${KAFKA_LOG4J_OPTS:--Dlog4j2.configurationFile=/opt/kafka/config/tools-log4j2.properties} \
  ${KAFKA_OPTS:-} -cp '/opt/kafka/libs/*' "$@"
