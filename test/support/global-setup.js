// The end-to-end suites run the built gateway as a child process, exactly as
// `npm start` does; `npm test` builds it first.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

module.exports = async function globalSetup() {
  const main = join(__dirname, '..', '..', 'dist', 'apps', 'gateway', 'src', 'main.js');
  if (!existsSync(main)) {
    throw new Error(`the gateway is not built (${main} is missing): run \`npm run build\` or use \`npm test\``);
  }
};
