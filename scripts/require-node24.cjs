// Guards every npm script: the project runs on Node 24 (from the `node` dev dependency).
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(
    `chat-node needs Node.js 24 or newer, but this is ${process.version}.\n` +
      'Run `npm ci` (with install scripts enabled) so the `node` dev dependency fetches Node 24;\n' +
      '`npm ci --ignore-scripts` leaves npm scripts on the system Node.',
  );
  process.exit(1);
}
