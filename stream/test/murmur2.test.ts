import { test } from 'node:test';
import assert from 'node:assert/strict';
import { murmur2, partitionForKey, toPositive } from '../src/murmur2.js';

// kafkajs src/producer/partitioners/default/murmur2.spec.js (generated with the Java client)
const KAFKAJS: Record<string, number> = {
  '0': 971027396,
  '1': -1993445489,
  '128': -326012175,
  '2187': -1508407203,
  '16384': -325739742,
  '78125': -1654490814,
  '279936': 1462227128,
  '823543': -2014198330,
  '2097152': 607668903,
  '4782969': -1182699775,
  '10000000': -1830336757,
  '19487171': -1603849305,
  '35831808': -857013643,
  '62748517': -1167431028,
  '105413504': -381294639,
  '170859375': -1658323481,
  '100:48069': 1009543857,
};

// Apache Kafka clients UtilsTest.testMurmur2
const KAFKA_JAVA: Record<string, number> = {
  '21': -973932308,
  foobar: -790332482,
  'a-little-bit-long-string': -985981536,
  'a-little-bit-longer-string': -1486304829,
  lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8: -58897971,
  abc: 479470107,
};

test('murmur2 matches the kafkajs / Java vectors', () => {
  for (const [k, v] of Object.entries({ ...KAFKAJS, ...KAFKA_JAVA })) assert.equal(murmur2(k), v, k);
  assert.equal(murmur2(Buffer.from('1')), -1993445489);
});

test('murmur2 hashes the UTF-8 bytes', () => {
  assert.equal(murmur2('\u263a b9'), murmur2(Buffer.from('\u263a b9', 'utf8')));
  assert.equal(murmur2(''), murmur2(new Uint8Array(0)));
});

test('partitionForKey matches the Java DefaultPartitioner (120 partitions)', () => {
  // from the kafka-node / no-kafka partitioner tests, run against the Java DefaultPartitioner
  const expected: Record<string, number> = {
    '\u263a tlw61or': 101,
    '\u263a ww50w20ggb9': 26,
    '\u263a tf706z9i2v86w29': 40,
    '\u263a pgb9': 1,
    '\u263a b9': 8,
  };
  for (const [k, p] of Object.entries(expected)) assert.equal(partitionForKey(k, 120), p, k);
});

test('toPositive clears the sign bit (not Math.abs)', () => {
  assert.equal(toPositive(-1), 0x7fffffff);
  assert.equal(toPositive(-2147483648), 0);
  assert.equal(partitionForKey('1', 7), (-1993445489 & 0x7fffffff) % 7);
});
