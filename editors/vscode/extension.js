// The Juncture extension for VS Code: starts `juncture lsp` (the language server built
// into the `juncture` command-line tool) for .jny files. Highlighting comes from
// syntaxes/juncture.tmLanguage.json and needs no code. Plain JavaScript: no build step.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const vscode = require('vscode');
const { LanguageClient, TransportKind, CloseAction, ErrorAction } = require('vscode-languageclient/node');

const SETTING = 'juncture.path';

let client; // the running JunctureClient, if any
let outputChannel; // one channel for every (re)start: "Juncture"
let watchers = []; // file watchers whose events go to the server
let starting; // the promise of a start or restart in progress

// A LanguageClient that does not pop up its own error notifications while it starts:
// if the server cannot be started, the extension shows one message naming the setting.
class JunctureClient extends LanguageClient {
  error(message, data, showNotification) {
    super.error(message, data, this.quietStart ? false : showNotification);
  }
}

// The executable that the setting names, resolved the way the extension starts it: an
// absolute path (or ~/...), a path relative to the first workspace folder if it has a
// slash, else a name looked up on PATH. Undefined if there is no such executable file.
function resolveExecutable(command) {
  const isExecutable = (file) => {
    try {
      if (!fs.statSync(file).isFile()) return false;
      if (process.platform !== 'win32') fs.accessSync(file, fs.constants.X_OK);
      return true;
    } catch (e) {
      return false;
    }
  };
  const extensions = process.platform === 'win32'
    ? [''].concat((process.env.PATHEXT || '.EXE;.CMD;.BAT;.COM').split(';').filter(Boolean))
    : [''];
  const withExtensions = (file) => extensions.map((ext) => file + ext).find(isExecutable);

  if (command === '~' || command.startsWith('~/')) command = path.join(os.homedir(), command.slice(1));
  if (path.isAbsolute(command)) return withExtensions(command);
  if (command.includes('/') || command.includes('\\')) {
    const folders = vscode.workspace.workspaceFolders || [];
    const bases = folders.filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
    for (const base of bases.length ? bases : [process.cwd()]) {
      const found = withExtensions(path.resolve(base, command));
      if (found) return found;
    }
    return undefined;
  }
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    const found = withExtensions(path.join(dir, command));
    if (found) return found;
  }
  return undefined;
}

async function showStartError(command, reason) {
  const detail = reason ? ` (${reason})` : '';
  const choice = await vscode.window.showErrorMessage(
    `Juncture: cannot start the language server "${command} lsp"${detail}. ` +
      `Install juncture on your PATH or set "${SETTING}" to the juncture executable.`,
    'Open Settings',
    'Show Output');
  if (choice === 'Open Settings') {
    await vscode.commands.executeCommand('workbench.action.openSettings', SETTING);
  } else if (choice === 'Show Output') {
    outputChannel.show(true);
  }
}

async function startClient() {
  const command = (vscode.workspace.getConfiguration('juncture').get('path') || 'juncture').trim() ||
    'juncture';
  const executable = resolveExecutable(command);
  if (!executable) {
    outputChannel.appendLine(`[juncture] "${command}" is not an executable file (setting ${SETTING}).`);
    showStartError(command, 'not found');
    return;
  }

  const folder = (vscode.workspace.workspaceFolders || []).find((f) => f.uri.scheme === 'file');
  const serverOptions = {
    command: executable,
    args: ['lsp'],
    transport: TransportKind.stdio,
    options: folder ? { cwd: folder.uri.fsPath } : {},
  };

  let running = false; // once the server has answered `initialize`
  let defaultHandler;
  const clientOptions = {
    documentSelector: [{ scheme: 'file', language: 'juncture' }],
    synchronize: { fileEvents: watchers },
    outputChannel,
    // The library would pop up the error itself; startClient reports it instead, once.
    initializationFailedHandler: (error) => {
      outputChannel.appendLine(`[juncture] initialization failed: ${error && error.message ? error.message : error}`);
      return false;
    },
    errorHandler: {
      error: (error, message, count) =>
        running ? defaultHandler.error(error, message, count) : { action: ErrorAction.Shutdown, handled: true },
      // A server that dies before it answered `initialize` is not restarted: startClient
      // reports it once. A crash later is restarted, at most 4 times in 3 minutes.
      closed: () =>
        running ? defaultHandler.closed() : { action: CloseAction.DoNotRestart, handled: true },
    },
  };

  const c = new JunctureClient('juncture', 'Juncture', serverOptions, clientOptions);
  defaultHandler = c.createDefaultErrorHandler(4);
  c.quietStart = true;
  client = c;
  try {
    await c.start();
    running = true;
  } catch (e) {
    const message = e && e.message ? e.message : String(e || 'unknown error');
    outputChannel.appendLine(`[juncture] ${executable} lsp: ${message}`);
    // A server that exits at once (an old juncture without `lsp`, another program) shows
    // up as a broken pipe or a closed connection: its own words are in the output.
    const exited = (e && e.code === 'EPIPE') || /EPIPE|connection got disposed|closed/i.test(message);
    if (client === c) client = undefined;
    showStartError(command, exited ? `${executable} exited at once; see the "Juncture" output` : `${executable}: ${message}`);
  } finally {
    c.quietStart = false;
  }
}

async function stopClient() {
  const c = client;
  client = undefined;
  if (c && c.needsStop()) {
    try {
      await c.stop();
    } catch (e) {
      outputChannel.appendLine(`[juncture] stopping the language server: ${e && e.message ? e.message : e}`);
    }
  }
}

function restartClient() {
  // One start or restart at a time, in order; a failed one does not block the next.
  const previous = starting || Promise.resolve();
  starting = previous.catch(() => {}).then(stopClient).then(startClient);
  return starting;
}

function activate(context) {
  outputChannel = vscode.window.createOutputChannel('Juncture');
  watchers = [
    vscode.workspace.createFileSystemWatcher('**/*.jny'),
    vscode.workspace.createFileSystemWatcher('**/approvals.json'),
  ];
  context.subscriptions.push(outputChannel, ...watchers);
  context.subscriptions.push(
    vscode.commands.registerCommand('juncture.restartServer', restartClient),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(SETTING)) restartClient();
    }));
  return restartClient();
}

async function deactivate() {
  if (starting) await starting.catch(() => {});
  await stopClient();
}

module.exports = { activate, deactivate, resolveExecutable };
