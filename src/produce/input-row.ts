/** One row of an input file, as every file reader (JSON lines, CSV, Parquet) yields it. */
export interface InputRow {
  /** 1-based line where the row starts. */
  line: number;
  /** The row's fields by name, when it could be read. */
  record?: Record<string, unknown>;
  /** Why the row could not be read. */
  error?: string;
  /** The row as text: the JSON line, or the CSV row as a JSON object of its columns. */
  raw: string;
}
