// Fails at once, saying what to run, when the pinned SDKs are not installed in tests/compat/node_modules.
// Loaded by every compat test (`node --require` in tests/compat/CMakeLists.txt, and lib/hub.js).
'use strict';

const path = require('node:path');

const compatDir = path.resolve(__dirname, '..');
for (const sdk of ['azure-iot-device', 'azure-iot-device-mqtt', 'azure-iothub']) {
  try {
    require.resolve(sdk, { paths: [compatDir] });
  } catch {
    throw new Error(`the official SDK '${sdk}' is not installed in ${path.join(compatDir, 'node_modules')}: ` +
                    'run `npm ci --prefix tests/compat` from the repository root');
  }
}
