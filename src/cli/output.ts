import Table from 'cli-table3';
import { Option } from 'commander';

/** How a command prints its answer. */
export type OutputFormat = 'json' | 'table';

/** `-o, --output json|table` with the command's default. */
export function outputOption(defaultFormat: OutputFormat): Option {
  return new Option('-o, --output <format>', 'print the answer as json or a table')
    .choices(['json', 'table'])
    .default(defaultFormat);
}

/** A table view of a list: the header and one row per item. */
export interface TableView<T> {
  head: string[];
  row(item: T): (string | number)[];
}

/** Prints `value` as pretty JSON. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Prints items as a borderless, aligned table (cli-table3), one line per item: easy to read
 * and to cut with awk.
 */
export function printTable<T>(items: T[], view: TableView<T>): void {
  const table = new Table({
    head: view.head,
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '  ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  for (const item of items) table.push(view.row(item).map(String));
  process.stdout.write(`${table.toString().replace(/[ \t]+$/gm, '')}\n`);
}

/** Prints a list in the chosen format. */
export function printList<T>(items: T[], format: OutputFormat, view: TableView<T>): void {
  if (format === 'json') printJson(items);
  else printTable(items, view);
}
