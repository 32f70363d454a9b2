#!/usr/bin/env node
import { Command } from 'commander';
import { registerBenchCommand } from './bench-command.js';
import { registerFleetCommands } from './fleet-command.js';
import { registerDashboardCommand } from './dashboard-command.js';
import { registerModelCommands } from './model-command.js';
import { registerModelsCommands } from './models-command.js';
import { registerRoleCommands } from './roles-command.js';
import { registerRunCommand } from './run-command.js';
import { registerServicesCommand } from './services-command.js';

// The AWS SDK's nine-line notice that its 2027 releases need Node 22 would open every command's
// output; package.json's engines and the README say which Node versions are supported.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const program = new Command();
program.name('oneadapt').description('Video analytics knobs tuned per stream by backpropagation').showHelpAfterError();
registerRunCommand(program);
registerRoleCommands(program);
registerServicesCommand(program);
registerModelCommands(program);
registerModelsCommands(program);
registerBenchCommand(program);
registerFleetCommands(program);
registerDashboardCommand(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  // One line for the user; the stack only when asked for.
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`oneadapt: ${msg.split('\n')[0]}\n`);
  if (process.env.ONEADAPT_DEBUG) console.error(err);
  process.exit(1);
});
