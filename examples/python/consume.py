#!/usr/bin/env python3
"""Reads teacherlm-stream's augmented topic with the Kafka ecosystem's own tools.

    pip install -r examples/python/requirements.txt
    python examples/python/consume.py --brokers 127.0.0.1:9092 --topic samples.augmented \
        --registry http://127.0.0.1:18080/apis/ccompat/v7          # format: confluent
    python examples/python/consume.py --brokers 127.0.0.1:9092 --topic samples.augmented \
        --schemas schemas                                          # format: avro (single-object)

Each record is printed as one JSON line. Records in the Confluent wire format (magic
byte 0, a 4-byte schema id) are decoded by confluent-kafka's AvroDeserializer with the
schema from the registry; records in Avro single-object encoding (C3 01, an 8-byte
CRC-64-AVRO fingerprint) are decoded by fastavro with the writer schema whose
fingerprint matches, among the .avsc files of --schemas (and its history/ folder),
resolved into the current augmented-sample.avsc. The consumer reads committed records
only (read_committed) and commits each offset after the record was printed.

Tracing: with OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_TRACES_EXPORTER=otlp) set, each record
is a CONSUMER span `<topic> process`, child of the context in its `traceparent` header
(the pipeline's process span), exported over OTLP http/protobuf by the OpenTelemetry SDK,
so the reader joins the sample's trace. OTEL_SERVICE_NAME defaults to teacherlm-python-reader.
"""
import argparse
import faulthandler
import json
import signal
import sys
import time
from io import BytesIO
from pathlib import Path

import fastavro
from fastavro.schema import fingerprint, to_parsing_canonical_form
from confluent_kafka import Consumer, KafkaError
from confluent_kafka.serialization import MessageField, SerializationContext


def single_object_reader(schemas_dir):
    """fingerprint hex -> parsed writer schema, for every .avsc under schemas_dir."""
    writers, readers = {}, {}
    for path in sorted(Path(schemas_dir).glob("*.avsc")) + sorted(Path(schemas_dir).glob("history/*.avsc")):
        schema = fastavro.parse_schema(json.loads(path.read_text()))
        writers[fingerprint(to_parsing_canonical_form(schema), "CRC-64-AVRO")] = schema
        if path.parent == Path(schemas_dir):
            readers[schema["name"]] = schema  # the current version of each record type

    def decode(value):
        writer = writers.get(value[2:10].hex())
        if writer is None:
            raise ValueError(f"unknown writer schema fingerprint {value[2:10].hex()}")
        return fastavro.schemaless_reader(BytesIO(value[10:]), writer, readers[writer["name"]])

    return decode


def confluent_reader(registry_url):
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroDeserializer

    # TOPIC: our producer registers `<topic>-value` (TopicNameStrategy). confluent-kafka 2.16
    # defaults to the ASSOCIATED strategy, which first asks the registry for the topic's
    # associations (Apicurio's Confluent-compatible API answers 404). That first request once
    # never got an answer and hung a reader for 90 s: with a timeout (seconds) a stalled
    # request fails as a transport error, which the client retries (max.retries, default 3).
    client = SchemaRegistryClient({"url": registry_url, "timeout": 10})
    deserializer = AvroDeserializer(client, conf={"subject.name.strategy.type": "TOPIC"})

    def decode(value, topic):
        return deserializer(value, SerializationContext(topic, MessageField.VALUE))

    return decode


def tracing():
    """(start_span(msg) -> context manager, shutdown()), or None when OTLP is not configured."""
    import os

    wanted = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if wanted == "none" or os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true" or not (wanted == "otlp" or endpoint):
        return None
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    service = os.environ.get("OTEL_SERVICE_NAME") or "teacherlm-python-reader"
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    tracer = provider.get_tracer("teacherlm-python-reader")
    propagator = TraceContextTextMapPropagator()

    def start_span(msg):
        carrier = {k.lower(): v.decode("latin1") for k, v in (msg.headers() or []) if v is not None}
        attributes = {
            "messaging.system": "kafka",
            "messaging.operation.type": "process",
            "messaging.destination.name": msg.topic(),
            "messaging.destination.partition.id": str(msg.partition()),
            "messaging.kafka.offset": msg.offset(),
        }
        return tracer.start_as_current_span(f"{msg.topic()} process", context=propagator.extract(carrier), kind=trace.SpanKind.CONSUMER, attributes=attributes)

    return start_span, provider.shutdown


def main():
    # A supervisor that finds this reader stuck can ask where: SIGUSR1 writes every thread's stack to stderr.
    if hasattr(signal, "SIGUSR1"):
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--brokers", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--group", default="teacherlm-python-reader")
    parser.add_argument("--registry", help="Confluent-compatible registry URL (for the Confluent wire format)")
    parser.add_argument("--schemas", help="the project's schemas/ folder (for single-object encoding)")
    parser.add_argument("--max", type=int, help="stop after this many records")
    parser.add_argument("--idle", type=float, default=10.0, help="stop after this many seconds with no record")
    args = parser.parse_args()

    traced = tracing()
    from_registry = confluent_reader(args.registry) if args.registry else None
    from_schemas = single_object_reader(args.schemas) if args.schemas else None
    consumer = Consumer({
        "bootstrap.servers": args.brokers,
        "group.id": args.group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
    })
    consumer.subscribe([args.topic])
    count, last = 0, time.monotonic()
    try:
        while args.max is None or count < args.max:
            msg = consumer.poll(0.5)
            if msg is None:
                if time.monotonic() - last > args.idle:
                    break
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise SystemExit(f"consume failed: {msg.error()}")
            last = time.monotonic()
            if traced:
                with traced[0](msg):
                    done = handle(msg, from_registry, from_schemas, consumer)
            else:
                done = handle(msg, from_registry, from_schemas, consumer)
            count += 1 if done else 0
    finally:
        consumer.close()
        if traced:
            traced[1]()
    print(f"read {count} records", file=sys.stderr)


def handle(msg, from_registry, from_schemas, consumer):
    """Decodes, prints and commits one record; False when it cannot be decoded."""
    value = msg.value()
    if value[:1] == b"\x00" and from_registry:
        record = from_registry(value, msg.topic())
    elif value[:2] == b"\xc3\x01" and from_schemas:
        record = from_schemas(value)
    else:
        print(f"{msg.topic()}/{msg.partition()}@{msg.offset()}: cannot decode (give --registry or --schemas)", file=sys.stderr)
        return False
    print(json.dumps(record, default=lambda b: b.decode("utf8", "replace")), flush=True)
    consumer.commit(message=msg, asynchronous=False)
    return True


if __name__ == "__main__":
    main()
