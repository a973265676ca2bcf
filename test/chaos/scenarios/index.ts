/** Every chaos scenario, in the order the suite runs them. */
import type { Scenario } from '../support/scenario.js';
import { brokerLossScenario } from './broker-loss.js';
import { engineCrashScenario } from './engine-crash.js';
import { killScenario } from './kill.js';
import { largeQuestionsScenario } from './large-questions.js';
import { rebalanceScenario } from './rebalance.js';

export const SCENARIOS: Scenario[] = [killScenario('echo'), brokerLossScenario, rebalanceScenario, engineCrashScenario, largeQuestionsScenario, killScenario('tiny')];
