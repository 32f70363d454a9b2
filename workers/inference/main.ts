// Inference worker process: segments → detections (+ gradients) → results.
import { closeOnSignals, startRoles } from '../../src/app/roles.js';
import { loadConfig } from '../../src/config/config.js';

const running = await startRoles(loadConfig(), ['worker']);
closeOnSignals(() => running.close());
