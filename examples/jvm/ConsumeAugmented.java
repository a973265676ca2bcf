/*
 * Reads teacherlm-stream's augmented topic (format: confluent) from the JVM, where Kafka
 * Connect and Flink live: a plain Kafka consumer with Apicurio's Avro deserializer, which
 * reads the Confluent wire format (magic byte 0, a 4-byte schema id, no headers) and
 * fetches each writer schema from the registry once. No code of ours is involved.
 *
 *   java -cp '<serde libs>/*:<kafka-clients libs>/*' examples/jvm/ConsumeAugmented.java \
 *        BROKERS TOPIC GROUP REGISTRY_ROOT MAX_RECORDS
 *
 * REGISTRY_ROOT is the registry's root, e.g. http://127.0.0.1:18080 (the serde speaks
 * Apicurio's own API under /apis/registry/v3; the ids it reads are the ones the
 * Confluent-compatible API gave). Prints one line per record: "<id>\t<task>\t<schema>".
 * Reads committed records only and commits after each poll's records were printed.
 */
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;

public class ConsumeAugmented {
  public static void main(String[] args) {
    if (args.length != 5) {
      System.err.println("usage: ConsumeAugmented BROKERS TOPIC GROUP REGISTRY_ROOT MAX_RECORDS");
      System.exit(2);
    }
    Properties props = new Properties();
    props.put("bootstrap.servers", args[0]);
    props.put("group.id", args[2]);
    props.put("auto.offset.reset", "earliest");
    props.put("enable.auto.commit", "false");
    props.put("isolation.level", "read_committed");
    props.put("key.deserializer", StringDeserializer.class.getName());
    props.put("value.deserializer", "io.apicurio.registry.serde.avro.AvroKafkaDeserializer");
    props.put("apicurio.registry.url", args[3] + "/apis/registry/v3");
    // Confluent-compatible framing: the id travels in the payload, 4 bytes, as the ccompat API's id.
    props.put("apicurio.registry.id-handler", "io.apicurio.registry.serde.Default4ByteIdHandler");
    props.put("apicurio.registry.use-id", "contentId");
    props.put("apicurio.registry.headers.enabled", "false");
    int max = Integer.parseInt(args[4]);
    int count = 0;
    long idleSince = System.currentTimeMillis();
    try (KafkaConsumer<String, GenericRecord> consumer = new KafkaConsumer<>(props)) {
      consumer.subscribe(List.of(args[1]));
      while (count < max && System.currentTimeMillis() - idleSince < 30_000) {
        var records = consumer.poll(Duration.ofMillis(500));
        for (ConsumerRecord<String, GenericRecord> record : records) {
          GenericRecord value = record.value();
          System.out.println(value.get("id") + "\t" + value.get("task") + "\t" + value.getSchema().getFullName());
          count++;
          idleSince = System.currentTimeMillis();
        }
        if (!records.isEmpty()) consumer.commitSync();
      }
    }
    System.err.println("read " + count + " records");
  }
}
