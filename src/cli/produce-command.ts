/**
 * `teacherlm produce FILE`: samples from a JSON-lines or CSV file to the input topic.
 * See src/produce/ for the reading, validation and producing.
 */
import { createWriteStream, statSync, type WriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseFieldMap } from '../records/field-map.js';
import { TeacherlmError } from '../errors.js';
import { choiceOption, nonEmptyString } from '../options.js';
import { ensureTopics } from '../kafka/admin.js';
import { KafkaSink } from '../kafka/sink.js';
import { signalHandler } from './signal-handler.js';
import { detectFormat, type InputRow, readInputRows } from '../produce/input-rows.js';
import { produceSamples, VALUE_FORMATS } from '../produce/produce-samples.js';
import { ProgressBar } from '../produce/progress.js';
import { recordCodecs } from '../records/codecs.js';
import { openCliKafka, topologyOption } from './cli-kafka.js';
import type { Command } from './command.js';

const USAGE = `Usage: teacherlm produce FILE [options]

Sends the samples of a JSON-lines, CSV (with a header row) or Parquet file to the input topic,
keyed by sample id, one trace span per sample (context in the record headers).

Options:
  --format jsonl|csv|parquet  default: from the extension (.jsonl, .ndjson, .json, .csv, .parquet)
  --map FIELD=NAME,...        read sample fields from other names, e.g. id=ex_id,task=task_name
  --topic T                   default: the topology's input topic
  --topology FILE             default: topologies/default.yaml
  --value-format json|avro    default: json
  --errors FILE               write every rejected row as a JSON line {line, reason, row}
  --send-invalid              send rejected rows anyway, so the pipeline dead-letters them
  -h, --help                  this text

Rows that fail validation are reported on stderr with their line number and skipped;
the exit code is then 1 (valid rows are still sent). With --send-invalid they are sent
as they are and the exit code is 0.`;

/** Shown on stderr; the rest go to --errors. */
const SHOWN_INVALID = 10;

export const produceCommand: Command = {
  summary: 'send samples from a JSON-lines or CSV file to the input topic',
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        format: { type: 'string' },
        map: { type: 'string' },
        topic: { type: 'string' },
        topology: { type: 'string' },
        'value-format': { type: 'string', default: 'json' },
        errors: { type: 'string' },
        'send-invalid': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const [file, ...extra] = positionals;
    if (!file) throw new TeacherlmError('INVALID_OPTIONS', 'produce needs a FILE', { hint: 'teacherlm produce samples.jsonl' });
    if (extra.length > 0) throw new TeacherlmError('INVALID_OPTIONS', `unexpected argument '${extra[0]}'`);
    // Read the file's kind first: a directory or a missing file is named as such, not as an unknown format.
    let size: number;
    try {
      const stat = statSync(file);
      if (stat.isDirectory()) {
        throw new TeacherlmError('IO_FAILED', `'${file}' is a directory, not a file of samples`, { hint: 'give one .jsonl or .csv file' });
      }
      size = stat.size;
    } catch (err) {
      if (err instanceof TeacherlmError) throw err;
      throw new TeacherlmError('IO_FAILED', `cannot read '${file}': ${(err as Error).message}`, { cause: err });
    }
    const format = detectFormat(file, values.format);
    const fieldMap = parseFieldMap(values.map, '--map');
    const valueFormat = choiceOption('--value-format', values['value-format'], VALUE_FORMATS);
    if (values.topic !== undefined) nonEmptyString('--topic', values.topic, 'a topic name');
    const input = topologyOption(values.topology).input;
    const topic = values.topic ?? input.topic;

    const { kafka, brokers, telemetry } = await openCliKafka('teacherlm-produce');
    const sink = new KafkaSink({ kafka });
    const errorsFile: WriteStream | undefined = values.errors ? createWriteStream(values.errors) : undefined;
    const progress = new ProgressBar(process.stderr, size);
    let shown = 0;
    const onInvalid = (row: InputRow, reason: string) => {
      progress.update({ invalid: ++shown });
      errorsFile?.write(`${JSON.stringify({ line: row.line, reason, row: row.raw })}\n`);
      // On a terminal, clear the progress bar's line first.
      const clear = process.stderr.isTTY ? '\r\x1b[2K' : '';
      if (shown <= SHOWN_INVALID) process.stderr.write(`${clear}${file}:${row.line}: ${reason}\n`);
    };
    const interrupted = { yes: false };
    const onSigint = signalHandler({
      shutdown: () => {
        interrupted.yes = true; // the rows read so far are still sent
      },
      forceExit: () => process.exit(130), // a second Ctrl-C does not wait
    });
    process.on('SIGINT', onSigint);
    const began = Date.now();
    try {
      await ensureTopics(kafka, [{ ...input, topic }]);
      await sink.connect();
      const totals = await produceSamples({
        rows: untilInterrupted(readInputRows(file, format, (bytes) => progress.update({ bytes })), interrupted),
        sink,
        topic,
        fieldMap,
        fromCsv: format === 'csv',
        valueFormat,
        ...(valueFormat === 'avro' ? { codec: recordCodecs().rawSample } : {}),
        sendInvalid: values['send-invalid'],
        onInvalid,
        onProgress: (t) => progress.update({ sent: t.sent }),
      });
      progress.done();
      if (totals.invalid > SHOWN_INVALID) {
        process.stderr.write(`... ${totals.invalid - SHOWN_INVALID} more invalid rows${values.errors ? ` in ${values.errors}` : ' (see them all with --errors FILE)'}\n`);
      }
      const seconds = ((Date.now() - began) / 1000).toFixed(1);
      const invalid = totals.invalid === 0 ? '' : values['send-invalid'] ? `, ${totals.invalidSent} invalid rows sent as they are` : `, ${totals.invalid} invalid rows skipped`;
      console.log(`${interrupted.yes ? 'interrupted: ' : ''}sent ${totals.sent} samples to ${topic} in ${seconds} s${invalid}`);
      return interrupted.yes ? 130 : totals.invalid > 0 && !values['send-invalid'] ? 1 : 0;
    } finally {
      process.off('SIGINT', onSigint);
      await sink.close();
      await brokers.stop();
      if (errorsFile) await new Promise((resolve) => errorsFile.end(resolve));
      await telemetry.shutdown();
    }
  },
};

async function* untilInterrupted(rows: AsyncIterable<InputRow>, interrupted: { yes: boolean }): AsyncGenerator<InputRow> {
  for await (const row of rows) {
    if (interrupted.yes) return;
    yield row;
  }
}
