#!/usr/bin/env node
// Tokenizes Juncture programs with the extension's TextMate grammar, the way VS Code does
// (vscode-textmate + vscode-oniguruma, line by line, carrying the rule stack), and fails
// if the grammar leaves a character unknown or calls a valid program invalid.
//
// usage: node test/tokenize.js [--grammar FILE] [--lenient PATH]... [PATH]...
//   --grammar  the grammar to test (default: syntaxes/juncture.tmLanguage.json)
//   PATH       a .jny file, a Markdown page (its ```jny blocks) or a folder (every .jny
//              under it): a valid program. No non-blank character may be left with only
//              the base scope source.juncture (an unknown token), none may carry an
//              invalid.illegal scope, and no word may be split in two tokens (30|m).
//   --lenient  a file or folder of programs that may be invalid (tests/golden/lint):
//              only unknown tokens fail.
// Without a PATH: the example programs, the golden and integration programs, the load
// benchmark's program and the ```jny blocks of docs/*.md (valid), and tests/golden/lint
// and tests/fuzz/corpus (lenient), all found from this script's location.
//
// Besides the files, it checks exact scopes on small inline programs, that every keyword
// of grammar/Juncture.g4 and every function of stdlib/decl/declarations.cc gets a keyword
// or function scope, so that a wrong grammar fails too, not only an incomplete one.
// Exit 0 if all passes, 1 on a failure, 2 on a usage error.
'use strict';

const fs = require('fs');
const path = require('path');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const EXTENSION = path.resolve(__dirname, '..');
const REPO = path.resolve(EXTENSION, '..', '..');
let GRAMMAR = path.join(EXTENSION, 'syntaxes', 'juncture.tmLanguage.json');
const BASE_SCOPE = 'source.juncture';
const BLANK = /[ \t\r\n\f]/; // the lexer's WS: anything else is a token or part of one
const TIME_LIMIT_MS = 2000; // per line; a grammar that backtracks badly fails

const failures = [];
function fail(where, what) {
  failures.push(where);
  if (failures.length <= 200) console.log(`FAIL ${where}: ${what}`);
}

async function loadGrammar() {
  const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName) => {
      if (scopeName !== BASE_SCOPE) return null;
      return vsctm.parseRawGrammar(fs.readFileSync(GRAMMAR, 'utf8'), GRAMMAR);
    },
  });
  const grammar = await registry.loadGrammar(BASE_SCOPE);
  if (!grammar) throw new Error(`cannot load ${GRAMMAR}`);
  return grammar;
}

// Tokens of each line: [{ start, end, text, scopes }], with the rule stack carried over.
function tokenizeText(grammar, text, where) {
  const lines = text.split(/\r?\n/);
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  let stack = vsctm.INITIAL;
  return lines.map((line, i) => {
    const r = grammar.tokenizeLine(line, stack, TIME_LIMIT_MS);
    if (r.stoppedEarly) fail(`${where}:${i + 1}`, `tokenizing the line took over ${TIME_LIMIT_MS} ms`);
    stack = r.ruleStack;
    return {
      line,
      tokens: r.tokens.map((t) => ({
        start: t.startIndex,
        end: Math.min(t.endIndex, line.length),
        text: line.slice(t.startIndex, t.endIndex),
        scopes: t.scopes,
      })),
    };
  });
}

const column = (line, index) => Array.from(line.slice(0, index)).length + 1; // code points

// Checks one program; `firstLine` maps a Markdown block back to its page.
function checkProgram(grammar, text, file, strict, firstLine, stats) {
  const lines = tokenizeText(grammar, text, file);
  stats.files += 1;
  lines.forEach(({ line, tokens }, i) => {
    stats.lines += 1;
    // The lexer never ends a token in the middle of a word of a valid program: two tokens
    // that meet between two word characters (30|m, in|dex) are a wrong rule, not a style.
    for (let k = 1; strict && k < tokens.length; k++) {
      const [a, b] = [tokens[k - 1], tokens[k]];
      const inText = (t) => t.scopes.some((sc) => /^(string|comment)\./.test(sc));
      if (a.end === b.start && /\w$/.test(a.text) && /^\w/.test(b.text) && !inText(a) && !inText(b)) {
        fail(`${file}:${firstLine + i}:${column(line, a.start)}`,
          `'${a.text}${b.text}' is split in two tokens: ${a.scopes.slice(-1)[0]} and ${b.scopes.slice(-1)[0]}`);
      }
    }
    for (const t of tokens) {
      if (t.start >= t.end || !Array.from(t.text).some((c) => !BLANK.test(c))) continue;
      stats.tokens += 1;
      const at = `${file}:${firstLine + i}:${column(line, t.start + t.text.search(/[^ \t\r\n\f]/))}`;
      if (t.scopes.length === 1 && t.scopes[0] === BASE_SCOPE) {
        fail(at, `unknown token '${t.text.trim()}' (only ${BASE_SCOPE})`);
      } else if (strict && t.scopes.some((s) => s.startsWith('invalid'))) {
        fail(at, `'${t.text.trim()}' is ${t.scopes.slice(1).join(' ')} in a valid program`);
      }
    }
  });
}

// The programs of a path: [{ file, text, firstLine }].
function programsOf(p) {
  const stat = fs.statSync(p);
  if (stat.isDirectory()) {
    const out = [];
    for (const name of fs.readdirSync(p).sort()) {
      if (name === 'node_modules' || name.startsWith('.')) continue;
      const child = path.join(p, name);
      if (fs.statSync(child).isDirectory() || name.endsWith('.jny')) out.push(...programsOf(child));
    }
    return out;
  }
  const text = fs.readFileSync(p, 'utf8');
  if (!p.endsWith('.md')) return [{ file: p, text, firstLine: 1 }];
  // A Markdown page: its fenced blocks whose info string is `jny` or `jny file=...`.
  const out = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const m = /^```(\S*)/.exec(lines[i]);
    if (!m) continue;
    const body = [];
    const start = i + 2;
    for (i += 1; i < lines.length && !lines[i].startsWith('```'); i++) body.push(lines[i]);
    if (m[1] === 'jny') out.push({ file: p, text: body.join('\n') + '\n', firstLine: start });
  }
  return out;
}

// ---- Exact expectations --------------------------------------------------------------

// A program that uses most of the language, and what some of its tokens must be.
const SAMPLE = String.raw`/* Block
   comment */
event cart_updated {
  cart_value: float = 0.0  // the total
  coupon: string?
  skus: list<string>
  title: string
}
profile {
  email_opt_in: bool = false
}
channel email {
  consent profile.email_opt_in
  quiet 21:00 .. 08:00 local drop
  cap 3 per 1d
  approval legal
}
const MIN_VALUE = 1.5e3 * 2
segment big = profile.email_opt_in and not (MIN_VALUE < 12.50)
journey cart_rescue {
  title "Cart \"rescue\" \u{1F600}"
  priority -1
  approvals marketing, finance
  limit discount <= 20%
  on cart_updated when event.cart_value >= MIN_VALUE and event.title starts_with "x"
  exit on cart_updated when count(cart_updated within 1d12h where event.cart_value > 0) > 5%3
  goal cart_updated within 2w
  wait 30m
  send email "cart_reminder" { discount: 15%, title: lower(event.coupon ?? ""), n: sum(cart_updated.cart_value within 90s) }
  wait until cart_updated or cart_updated within 2d { exit } else { control }
  split {
    50%: control
    50%: send email "other"
  }
}
const W = intake + orders + nowhere + events - profiles * exits / sending % iffy
`;

const INVALID_SAMPLE = String.raw`segment gold = profile.tier == 'gold' or $ > 1
journey j {
  title "Hello\quest"
  owner "unterminated
  priority 1
}
channel sms { quiet 25:00 .. 08:00 }
`;

// [line (1-based), text, occurrence (0-based), scope that every character must carry]
const EXPECTATIONS = [
  [1, '/* Block', 0, /^comment\.block\.juncture$/],
  [2, 'comment */', 0, /^comment\.block\.juncture$/],
  [3, 'event', 0, /^storage\.type\.event\./],
  [3, 'cart_updated', 0, /^entity\.name\.type\.event\./],
  [4, 'cart_value', 0, /^variable\.other\.property\./],
  [4, 'float', 0, /^storage\.type\.primitive\./],
  [4, '=', 0, /^keyword\.operator\.assignment\./],
  [4, '0.0', 0, /^constant\.numeric\.float\./],
  [4, '// the total', 0, /^comment\.line\.double-slash\./],
  [5, 'string', 0, /^storage\.type\.primitive\./],
  [5, '?', 0, /^storage\.modifier\.optional\./],
  [6, 'list', 0, /^storage\.type\.primitive\./],
  [6, '<', 0, /^punctuation\.definition\.typeparameters\.begin\./],
  [6, 'string', 0, /^storage\.type\.primitive\./],
  [7, 'title', 0, /^variable\.other\.property\./], // a keyword as a field name
  [9, 'profile', 0, /^storage\.type\.profile\./],
  [10, 'false', 0, /^constant\.language\.boolean\./],
  [12, 'channel', 0, /^storage\.type\.channel\./],
  [12, 'email', 0, /^entity\.name\.type\.channel\./],
  [13, 'consent', 0, /^keyword\.other\./],
  [13, 'profile', 0, /^variable\.language\.profile\./],
  [13, '.', 0, /^punctuation\.accessor\./],
  [13, 'email_opt_in', 0, /^variable\.other\.property\./],
  [14, 'quiet', 0, /^keyword\.other\./],
  [14, '21:00', 0, /^constant\.numeric\.time\./],
  [14, '..', 0, /^keyword\.operator\.range\./],
  [14, 'local', 0, /^keyword\.other\./],
  [14, 'drop', 0, /^keyword\.other\./],
  [15, '3', 0, /^constant\.numeric\.integer\./],
  [15, 'per', 0, /^keyword\.other\./],
  [15, '1d', 0, /^constant\.numeric\.duration\./],
  [16, 'legal', 0, /^entity\.name\.tag\.role\./],
  [18, 'const', 0, /^storage\.type\.const\./],
  [18, 'MIN_VALUE', 0, /^entity\.name\.constant\./],
  [18, '1.5e3', 0, /^constant\.numeric\.float\./],
  [18, '*', 0, /^keyword\.operator\.arithmetic\./],
  [19, 'segment', 0, /^storage\.type\.segment\./],
  [19, 'big', 0, /^entity\.name\.function\.segment\./],
  [19, 'and', 0, /^keyword\.operator\.logical\./],
  [19, 'not', 0, /^keyword\.operator\.logical\./],
  [19, 'MIN_VALUE', 0, /^variable\.other\.constant\./],
  [19, '<', 0, /^keyword\.operator\.comparison\./],
  [19, '12.50', 0, /^constant\.numeric\.float\./],
  [20, 'journey', 0, /^storage\.type\.journey\./],
  [20, 'cart_rescue', 0, /^entity\.name\.function\.journey\./],
  [21, 'title', 0, /^keyword\.other\./],
  [21, '"Cart ', 0, /^string\.quoted\.double\.juncture$/],
  [21, '\\"', 0, /^constant\.character\.escape\./],
  [21, '\\u{1F600}', 0, /^constant\.character\.escape\./],
  [22, '-', 0, /^keyword\.operator\.arithmetic\./],
  [23, 'marketing', 0, /^entity\.name\.tag\.role\./],
  [23, 'finance', 0, /^entity\.name\.tag\.role\./],
  [24, 'discount', 0, /^variable\.parameter\./],
  [24, '<=', 0, /^keyword\.operator\.comparison\./],
  [24, '20%', 0, /^constant\.numeric\.percentage\./],
  [25, 'on', 0, /^keyword\.other\./],
  [25, 'cart_updated', 0, /^entity\.name\.type\.event\./],
  [25, 'when', 0, /^keyword\.other\./],
  [25, 'event', 0, /^variable\.language\.event\./],
  [25, 'cart_value', 0, /^variable\.other\.property\./],
  [25, 'title', 0, /^variable\.other\.property\./], // event.title: a keyword as a field
  [25, 'starts_with', 0, /^keyword\.operator\.expression\./],
  [26, 'exit', 0, /^keyword\.control\./],
  [26, 'count', 0, /^support\.function\.builtin\./],
  [26, 'cart_updated', 1, /^entity\.name\.type\.event\./],
  [26, 'within', 0, /^keyword\.other\./],
  [26, '1d12h', 0, /^constant\.numeric\.duration\./],
  [26, 'where', 0, /^keyword\.other\./],
  [26, '5%', 0, /^constant\.numeric\.percentage\./], // 5%3 lexes as the percent 5% and 3
  [26, '3', 0, /^constant\.numeric\.integer\./],
  [27, 'goal', 0, /^keyword\.other\./],
  [27, '2w', 0, /^constant\.numeric\.duration\./],
  [28, 'wait', 0, /^keyword\.control\./],
  [28, '30m', 0, /^constant\.numeric\.duration\./],
  [29, 'send', 0, /^keyword\.control\./],
  [29, 'email', 0, /^entity\.name\.type\.channel\./],
  [29, '"cart_reminder"', 0, /^string\.quoted\.double\.template\./],
  [29, 'discount', 0, /^variable\.parameter\./],
  [29, '15%', 0, /^constant\.numeric\.percentage\./],
  [29, ',', 0, /^punctuation\.separator\.comma\./],
  [29, 'title', 0, /^variable\.parameter\./], // a keyword as a parameter name
  [29, 'lower', 0, /^support\.function\.builtin\./],
  [29, 'coupon', 0, /^variable\.other\.property\./],
  [29, '??', 0, /^keyword\.operator\.coalesce\./],
  [29, '""', 0, /^string\.quoted\.double\./],
  [29, 'sum', 0, /^support\.function\.builtin\./],
  [29, 'cart_updated', 0, /^entity\.name\.type\.event\./],
  [29, 'cart_value', 0, /^variable\.other\.property\./],
  [29, '90s', 0, /^constant\.numeric\.duration\./],
  [30, 'until', 0, /^keyword\.control\./],
  [30, 'cart_updated', 1, /^entity\.name\.type\.event\./],
  [30, 'or', 0, /^keyword\.operator\.logical\./],
  [30, '{', 0, /^punctuation\.section\.block\.begin\./],
  [30, 'else', 0, /^keyword\.control\./],
  [30, 'control', 0, /^keyword\.control\./],
  [31, 'split', 0, /^keyword\.control\./],
  [32, '50%', 0, /^constant\.numeric\.percentage\./],
  [32, ':', 0, /^punctuation\.separator\.colon\./],
  [33, '"other"', 0, /^string\.quoted\.double\.template\./],
  // names that start with a keyword are names
  [36, 'intake', 0, /^variable\.other\.readwrite\./],
  [36, 'orders', 0, /^variable\.other\.readwrite\./],
  [36, 'nowhere', 0, /^variable\.other\.readwrite\./],
  [36, 'events', 0, /^variable\.other\.readwrite\./],
  [36, 'profiles', 0, /^variable\.other\.readwrite\./],
  [36, 'exits', 0, /^variable\.other\.readwrite\./],
  [36, 'sending', 0, /^variable\.other\.readwrite\./],
  [36, 'iffy', 0, /^variable\.other\.readwrite\./],
];

const INVALID_EXPECTATIONS = [
  [1, "'gold'", 0, /^invalid\.illegal\.single-quoted-string\./],
  [1, '$', 0, /^invalid\.illegal\.character\./],
  [1, '1', 0, /^constant\.numeric\.integer\./], // and the line goes on normally
  [3, '\\q', 0, /^invalid\.illegal\.escape\./],
  [3, 'uest', 0, /^string\.quoted\.double\./],
  [4, '"unterminated', 0, /^invalid\.illegal\.unterminated-string\./],
  [5, 'priority', 0, /^keyword\.other\./], // the next line is not swallowed
  [7, '25:00', 0, /^invalid\.illegal\.clock\./],
  [7, '08:00', 0, /^constant\.numeric\.time\./],
];

function checkExpectations(grammar, name, text, expectations) {
  const lines = tokenizeText(grammar, text, name);
  for (const [lineNo, want, occurrence, scope] of expectations) {
    const { line, tokens } = lines[lineNo - 1];
    let index = -1;
    for (let n = 0; n <= occurrence; n++) index = line.indexOf(want, index + 1);
    const where = `${name}:${lineNo}:${index + 1}`;
    if (index < 0) {
      fail(where, `the sample has no '${want}' #${occurrence + 1} on line ${lineNo}`);
      continue;
    }
    for (let i = index; i < index + want.length; i++) {
      const t = tokens.find((tok) => tok.start <= i && i < tok.end);
      const scopes = t ? t.scopes : [BASE_SCOPE];
      if (!scopes.some((s) => scope.test(s))) {
        fail(where, `'${want}' should be ${scope.source}, but '${line[i]}' is ${scopes.join(' ')}`);
        break;
      }
    }
  }
  return expectations.length;
}

// Every word literal of the ANTLR grammar must be highlighted as a language word.
function checkKeywords(grammar) {
  const g4 = path.join(REPO, 'grammar', 'Juncture.g4');
  if (!fs.existsSync(g4)) return 0;
  const keywords = new Set();
  for (const m of fs.readFileSync(g4, 'utf8').matchAll(/'([A-Za-z_][A-Za-z0-9_]*)'/g)) keywords.add(m[1]);
  const ok = /^(keyword\.|storage\.type\.|constant\.language\.|support\.function\.|variable\.language\.)/;
  for (const kw of keywords) {
    for (const text of [kw, `  ${kw} `]) {
      const [{ tokens }] = tokenizeText(grammar, text, `keyword '${kw}'`);
      const t = tokens.find((tok) => tok.text.trim() === kw);
      if (!t || !t.scopes.some((s) => ok.test(s))) {
        fail(`${g4}`, `keyword '${kw}' is ${t ? t.scopes.join(' ') : 'split'}, not a keyword scope`);
        break;
      }
    }
  }
  return keywords.size;
}

// Every function of the standard library, called, must get a function scope.
function checkStdlib(grammar) {
  const decl = path.join(REPO, 'stdlib', 'decl', 'declarations.cc');
  if (!fs.existsSync(decl)) return 0;
  const names = new Set();
  for (const m of fs.readFileSync(decl, 'utf8').matchAll(/^\s*\{"([A-Za-z_][A-Za-z0-9_]*)",/gm)) names.add(m[1]);
  if (names.size === 0) fail(decl, 'no function found: has the table changed shape?');
  for (const name of names) {
    const text = `segment s = ${name}(profile.x) == ${name} (1)`;
    const [{ tokens }] = tokenizeText(grammar, text, `function '${name}'`);
    const calls = tokens.filter((tok) => tok.text === name);
    if (calls.length !== 2 || !calls.every((t) => t.scopes.some((s) => s.startsWith('support.function.')))) {
      fail(decl, `the function '${name}' is ${calls.map((t) => t.scopes.join(' ')).join(' / ') || 'split'}`);
    }
  }
  return names.size;
}

// The manifest must contribute this grammar and a language configuration that parses.
function checkManifest() {
  const manifest = JSON.parse(fs.readFileSync(path.join(EXTENSION, 'package.json'), 'utf8'));
  const { languages = [], grammars = [] } = manifest.contributes || {};
  const language = languages.find((l) => l.id === 'juncture');
  const grammar = grammars.find((g) => g.language === 'juncture');
  if (!language || !(language.extensions || []).includes('.jny')) fail('package.json', 'no language juncture for .jny');
  if (!grammar || grammar.scopeName !== BASE_SCOPE ||
      path.resolve(EXTENSION, grammar.path) !== path.join(EXTENSION, 'syntaxes', 'juncture.tmLanguage.json')) {
    fail('package.json', `no grammar ${BASE_SCOPE} at syntaxes/juncture.tmLanguage.json`);
  }
  try {
    const config = JSON.parse(fs.readFileSync(path.resolve(EXTENSION, language.configuration), 'utf8'));
    for (const rule of Object.values(config.indentationRules || {})) new RegExp(rule);
    if (config.wordPattern) new RegExp(config.wordPattern);
  } catch (e) {
    fail('language-configuration.json', e.message);
  }
  if (!fs.existsSync(path.resolve(EXTENSION, manifest.main || ''))) fail('package.json', `no main ${manifest.main}`);
}

async function main() {
  const strictPaths = [];
  const lenientPaths = [];
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--lenient' && i + 1 < args.length) lenientPaths.push(args[++i]);
    else if (args[i] === '--grammar' && i + 1 < args.length) GRAMMAR = path.resolve(args[++i]);
    else if (args[i] === '-h' || args[i] === '--help' || args[i].startsWith('-')) {
      console.error('usage: node test/tokenize.js [--grammar FILE] [--lenient PATH]... [PATH]...');
      process.exit(2);
    } else strictPaths.push(args[i]);
  }
  if (strictPaths.length === 0 && lenientPaths.length === 0) {
    const inRepo = (...p) => path.join(REPO, ...p);
    strictPaths.push(inRepo('examples'), inRepo('tests', 'golden', 'ir'), inRepo('tests', 'golden', 'graph'),
      inRepo('tests', 'integration'), inRepo('bench', 'load', 'program'));
    if (fs.existsSync(inRepo('docs'))) {
      for (const page of fs.readdirSync(inRepo('docs')).sort()) {
        if (page.endsWith('.md')) strictPaths.push(inRepo('docs', page));
      }
    }
    lenientPaths.push(inRepo('tests', 'golden', 'lint'), inRepo('tests', 'fuzz', 'corpus'));
    // The defaults that this checkout lacks are left out (the examples must be there).
    for (const list of [strictPaths, lenientPaths]) {
      const present = list.filter((p) => fs.existsSync(p) || p === inRepo('examples'));
      list.splice(0, list.length, ...present);
    }
  }

  checkManifest();
  const grammar = await loadGrammar();
  const strict = { files: 0, lines: 0, tokens: 0 };
  const lenient = { files: 0, lines: 0, tokens: 0 };
  for (const [paths, isStrict, stats] of [[strictPaths, true, strict], [lenientPaths, false, lenient]]) {
    for (const p of paths) {
      if (!fs.existsSync(p)) {
        fail(p, 'no such file or folder');
        continue;
      }
      for (const { file, text, firstLine } of programsOf(p)) {
        checkProgram(grammar, text, path.relative(process.cwd(), file) || file, isStrict, firstLine, stats);
      }
    }
  }
  if (strict.files + lenient.files === 0) fail('tokenize', 'no program to check');

  const expectations = checkExpectations(grammar, 'sample', SAMPLE, EXPECTATIONS) +
    checkExpectations(grammar, 'invalid-sample', INVALID_SAMPLE, INVALID_EXPECTATIONS);
  const keywords = checkKeywords(grammar);
  const functions = checkStdlib(grammar);

  const summary = `${strict.files + lenient.files} files (${strict.files} valid, ${lenient.files} lenient), ` +
    `${strict.lines + lenient.lines} lines, ${strict.tokens + lenient.tokens} tokens checked; ` +
    `${expectations} exact expectations, ${keywords} keywords, ${functions} built-in functions`;
  if (failures.length) {
    console.log(`tokenize: FAILED (${failures.length} failure(s)): ${summary}`);
    process.exit(1);
  }
  console.log(`tokenize: OK: ${summary}`);
}

main().catch((e) => {
  console.error(`tokenize: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
