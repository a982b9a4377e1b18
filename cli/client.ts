/**
 * The API client every command group shares: bearer token, JSON or raw bodies, and API errors turned into one-line
 * CLI errors (`404 NOT_FOUND: no execution x`).
 */
import { CliError } from './errors';
import type { ApiTarget } from './config';

export interface RawResponse {
  body: Buffer;
  headers: Headers;
}

export class ApiClient {
  constructor(private readonly target: ApiTarget) {}

  async json<T>(path: string, init: RequestInit = {}): Promise<T> {
    const res = await this.request(path, init);
    return JSON.parse(res.body.toString('utf8')) as T;
  }

  /** A JSON POST; the answer's JSON. */
  async post<T>(path: string, body: unknown): Promise<T> {
    return this.json<T>(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  async text(path: string): Promise<string> {
    return (await this.request(path)).body.toString('utf8');
  }

  async raw(path: string): Promise<RawResponse> {
    return this.request(path);
  }

  private async request(path: string, init: RequestInit = {}): Promise<RawResponse> {
    const headers = new Headers(init.headers);
    if (this.target.token) headers.set('authorization', `Bearer ${this.target.token}`);
    let res: Response;
    try {
      res = await fetch(`${this.target.url}${path}`, { ...init, headers });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`cannot reach ${this.target.url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
    }
    const body = Buffer.from(await res.arrayBuffer());
    if (!res.ok) throw new CliError(`${res.status} ${describeError(body)}`);
    return { body, headers: res.headers };
  }
}

function describeError(body: Buffer): string {
  try {
    const e = (JSON.parse(body.toString('utf8')) as { error?: { code?: string; message?: string; details?: unknown } })
      .error;
    if (e?.code || e?.message) return [e.code, e.message].filter(Boolean).join(': ') + fieldErrors(e.details);
  } catch {
    // not JSON: fall through to the text
  }
  return body.toString('utf8').slice(0, 200).replace(/\s+/g, ' ') || 'no body';
}

/** Validation details (`[{ path, message }]`) on the same line: ` (/instanceId must match pattern ...; ...)`. */
function fieldErrors(details: unknown): string {
  if (!Array.isArray(details)) return '';
  const items = details
    .filter(
      (d): d is { path: string; message: string } => typeof d?.path === 'string' && typeof d?.message === 'string',
    )
    .map((d) => `${d.path} ${d.message}`);
  return items.length > 0 ? ` (${items.join('; ')})` : '';
}

export const enc = encodeURIComponent;
