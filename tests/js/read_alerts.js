// Reads N messages of a topic from the beginning with its own consumer group; prints {key, value} JSON lines.
const { Kafka, logLevel } = require('kafkajs');
const [broker, topic, expected] = process.argv.slice(2);
(async () => {
  const kafka = new Kafka({ brokers: broker.split(","), logLevel: logLevel.NOTHING });  // host:port[,host:port...]
  const consumer = kafka.consumer({ groupId: 'kjs-' + Date.now(), sessionTimeout: 10000, heartbeatInterval: 1000 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let n = 0;
  await new Promise((resolve) => {
    consumer.run({ eachMessage: async ({ message }) => {
      console.log(JSON.stringify({ key: message.key && message.key.toString(), value: JSON.parse(message.value.toString()) }));
      if (++n >= Number(expected)) resolve();
    }});
  });
  await consumer.disconnect();
})().catch((e) => { console.error(e); process.exit(1); });
