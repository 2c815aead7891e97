/**
 * What every client command shares: `--api`, `--output` (and `--consistency` on reads), the
 * client over the discovered replicas, and the argument parsers.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { ApiClient, discoverApi } from './api-client.js';
import { type OutputFormat, outputOption } from './output.js';

/** Options every client command takes. */
export interface ClientOptions {
  api?: string;
  output: OutputFormat;
  json?: boolean;
  consistency?: string;
}

const API_HELP = 'replica URLs, comma-separated (else THALES_API, else the running thales dev)';

/** Adds `--api` and `--output` (default `format`), and for reads `--consistency`. */
export function clientCommand(
  parent: Command,
  name: string,
  description: string,
  format: OutputFormat,
  read = false,
): Command {
  const command = parent
    .command(name)
    .description(description)
    .option('--api <urls>', API_HELP)
    .addOption(outputOption(format));
  if (format === 'table') {
    command.addOption(new Option('--json', 'same as --output json').hideHelp());
  }
  if (read) {
    command.addOption(
      new Option(
        '--consistency <level>',
        'sequential, or linearizable (sees every write acknowledged before)',
      )
        .choices(['sequential', 'linearizable'])
        .default('sequential'),
    );
  }
  return command;
}

/** The client over the replicas the options (or the environment) name. */
export function clientOf(options: ClientOptions): ApiClient {
  return new ApiClient(discoverApi(options.api));
}

/** The output format (`--json` is `--output json`). */
export function formatOf(options: ClientOptions): OutputFormat {
  return options.json ? 'json' : options.output;
}

/** The query string of a read's `--consistency`. */
export function readQuery(options: ClientOptions): string {
  return options.consistency === 'linearizable' ? '?consistency=linearizable' : '';
}

/** A non-negative integer argument or flag; anything else is a usage error naming it. */
export function count(what: string): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${what} must be a whole number`);
    return Number(value);
  };
}

/** A positive number flag (cpus, memory). */
export function amount(what: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0)
      throw new InvalidArgumentError(`${what} must be a number ≥ 0`);
    return n;
  };
}

/** Path segments are encoded: an id is data, never part of the path. */
export const seg = encodeURIComponent;
