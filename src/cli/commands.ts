/** The registry of subcommands; each lives in its own file. */
import type { Command } from './command.js';

export const COMMANDS: Record<string, Command> = {};
import { annotateCommand } from './annotate-command.js';
COMMANDS.annotate = annotateCommand;
import { kafkaCommand } from './kafka-command.js';
COMMANDS.kafka = kafkaCommand;
import { modelCommand } from './model-command.js';
COMMANDS.model = modelCommand;
import { produceCommand } from './produce-command.js';
COMMANDS.produce = produceCommand;
import { tailCommand } from './tail-command.js';
COMMANDS.tail = tailCommand;
import { runCommand } from './run-command.js';
COMMANDS.run = runCommand;
import { studentFeedCommand } from './student-feed-command.js';
COMMANDS['student-feed'] = studentFeedCommand;
import { demoCommand } from './demo-command.js';
COMMANDS.demo = demoCommand;
import { registryCommand } from './registry-command.js';
COMMANDS.registry = registryCommand;
import { statusCommand } from './status-command.js';
COMMANDS.status = statusCommand;
import { tuneCommand } from './tune-command.js';
COMMANDS.tune = tuneCommand;
