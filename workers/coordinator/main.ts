// Coordinator process: results → one policy step per segment → knob updates.
import { closeOnSignals, startRoles } from '../../src/app/roles.js';
import { loadConfig } from '../../src/config/config.js';

const running = await startRoles(loadConfig(), ['coordinator']);
closeOnSignals(() => running.close());
