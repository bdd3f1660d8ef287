/**
 * Optional copies of the audit trail for a SIEM: a JSON-lines file and
 * syslog (RFC 5424 over UDP, or over TCP with RFC 6587 octet counting).
 * Best effort and never blocking a request: the store holds the durable,
 * verifiable trail; a sink that falls behind drops lines and says so in the
 * operational log.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createWriteStream, type WriteStream } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { hostname } from 'node:os';
import type { Logger } from '../log.js';
import type { ExportedRecord } from './records.js';

export interface AuditSink {
  write(line: ExportedRecord): void;
  close(): Promise<void>;
}

export function fileSink(file: string, log: Logger): AuditSink {
  const out: WriteStream = createWriteStream(file, { flags: 'a', mode: 0o600 });
  let failed = false;
  out.on('error', (e) => {
    if (!failed) log.error('audit file sink failed', { file, error: e.message });
    failed = true;
  });
  return {
    write(line) {
      if (!failed) out.write(`${JSON.stringify(line)}\n`);
    },
    close: () => new Promise<void>((resolve) => out.end(() => resolve())),
  };
}

/** RFC 5424 §6.2.1 facility 13, "log audit". */
export const SYSLOG_AUDIT_FACILITY = 13;
const SEVERITY_INFO = 6;
const SEVERITY_WARNING = 4;
/** Lines held while a TCP syslog connection is down; beyond it, lines are dropped. */
const MAX_BACKLOG = 10_000;
const RECONNECT_MS = 1000;

export interface SyslogTarget {
  readonly protocol: 'udp' | 'tcp';
  readonly host: string;
  readonly port: number;
}

/** `udp://HOST:PORT` or `tcp://HOST:PORT` (IPv6 in brackets); port default 514. */
export function parseSyslogUrl(url: string): SyslogTarget {
  const m = /^(udp|tcp):\/\/(\[[^\]]+\]|[^:/]+)(?::(\d{1,5}))?\/?$/.exec(url);
  const port = Number(m?.[3] ?? 514);
  if (m === null || port < 1 || port > 65535)
    throw new RangeError(`audit.syslog: '${url}' is not udp://HOST:PORT or tcp://HOST:PORT`);
  const host = (m[2] ?? '').replace(/^\[(.*)\]$/, '$1');
  return { protocol: m[1] === 'tcp' ? 'tcp' : 'udp', host, port };
}

/** RFC 5424 §6: HEADER SP STRUCTURED-DATA SP MSG; the message is the JSON line. */
export function formatSyslog(line: ExportedRecord, facility: number, host: string, pid: number): string {
  const severity = line.result === 'Success' ? SEVERITY_INFO : SEVERITY_WARNING;
  const printable = (s: string, max: number) => s.replace(/[^\x21-\x7e]/g, '_').slice(0, max) || '-';
  // MSGID: the operation (max 32 printable characters, §6.2.7)
  return `<${facility * 8 + severity}>1 ${line.time} ${printable(host, 255)} kmip-server ${pid} ${printable(line.operation, 32)} - ${JSON.stringify(line)}`;
}

export function syslogSink(target: SyslogTarget, log: Logger, facility = SYSLOG_AUDIT_FACILITY): AuditSink {
  const host = hostname();
  const format = (line: ExportedRecord) => formatSyslog(line, facility, host, process.pid);
  return target.protocol === 'udp' ? udpSink(target, format, log) : tcpSink(target, format, log);
}

function udpSink(target: SyslogTarget, format: (l: ExportedRecord) => string, log: Logger): AuditSink {
  const socket: UdpSocket = createSocket(target.host.includes(':') ? 'udp6' : 'udp4');
  socket.unref();
  let reported = false;
  socket.on('error', (e) => {
    if (!reported) log.warn('audit syslog sink error', { error: e.message });
    reported = true;
  });
  return {
    write(line) {
      socket.send(Buffer.from(format(line), 'utf8'), target.port, target.host, (e) => {
        if (e && !reported) {
          reported = true;
          log.warn('audit syslog sink error', { error: e.message });
        }
      });
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

function tcpSink(target: SyslogTarget, format: (l: ExportedRecord) => string, log: Logger): AuditSink {
  let socket: Socket | undefined;
  let connected = false;
  let closed = false;
  let dropped = 0;
  const backlog: string[] = [];
  const frame = (msg: string) => {
    // RFC 6587 §3.4.1 octet counting: MSG-LEN SP SYSLOG-MSG
    const body = Buffer.from(msg, 'utf8');
    return `${body.length} ${msg}`;
  };
  const open = () => {
    if (closed) return;
    const s = connect({ host: target.host, port: target.port });
    socket = s;
    s.setNoDelay(true);
    s.on('connect', () => {
      connected = true;
      if (dropped > 0) log.warn('audit syslog sink dropped lines while disconnected', { dropped });
      dropped = 0;
      for (const m of backlog.splice(0)) s.write(m);
    });
    s.on('error', (e) => log.debug('audit syslog sink connection error', { error: e.message }));
    s.on('close', () => {
      connected = false;
      socket = undefined;
      if (!closed) setTimeout(open, RECONNECT_MS).unref();
    });
  };
  open();
  return {
    write(line) {
      const m = frame(format(line));
      if (connected && socket !== undefined) socket.write(m);
      else if (backlog.length < MAX_BACKLOG) backlog.push(m);
      else dropped++;
    },
    close: () =>
      new Promise<void>((resolve) => {
        closed = true;
        const s = socket;
        if (s === undefined || !connected) {
          s?.destroy();
          resolve();
          return;
        }
        s.end(() => resolve());
        setTimeout(() => {
          s.destroy();
          resolve();
        }, 1000).unref();
      }),
  };
}
