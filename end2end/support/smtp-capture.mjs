// A real SMTP server for tests: accepts every message on 127.0.0.1 and writes each one,
// as received, to <dir>/<n>.eml. Prints "listening <port>" once it accepts connections.
//
//   node smtp-capture.mjs --port 2525 --dir /tmp/mail
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SMTPServer } from "smtp-server";

const { values } = parseArgs({
  options: { port: { type: "string", default: "0" }, dir: { type: "string" } },
});
if (!values.dir) {
  console.error("usage: smtp-capture.mjs --port N --dir DIR");
  process.exit(2);
}
mkdirSync(values.dir, { recursive: true });

let count = 0;
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ["STARTTLS"],
  logger: false,
  onData(stream, session, callback) {
    const chunks = [];
    stream.on("data", (chunk) => chunks.push(chunk));
    stream.on("end", () => {
      count += 1;
      const name = `${String(count).padStart(4, "0")}.eml`;
      const tmp = join(values.dir, `.${name}.tmp`);
      writeFileSync(tmp, Buffer.concat(chunks));
      // Rename into place so readers never see half a message.
      renameSync(tmp, join(values.dir, name));
      callback();
    });
  },
});

server.listen(Number(values.port), "127.0.0.1", () => {
  console.log(`listening ${server.server.address().port}`);
});

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
