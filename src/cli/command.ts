/** A subcommand of the `teacherlm` CLI. `run` returns the process exit code. */
export interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}
