import { lookup as dnsLookup, LookupAddress } from 'node:dns';
import { Agent as HttpAgent, IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP, LookupFunction } from 'node:net';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { OutboundAddressPolicy } from './outbound-address-policy';

/** Discovery documents and JWKS are small; anything larger is refused before it is buffered further. */
export const OUTBOUND_MAX_BYTES = 512 * 1024;
export const OUTBOUND_TIMEOUT_MS = 5000;

/** The destination resolved to (or is) an address outbound fetches may not reach. */
export class OutboundAddressRefusedError extends Error {
  override readonly name = 'OutboundAddressRefusedError';
  readonly code = 'OUTBOUND_ADDRESS_REFUSED';
}

export interface OutboundRequestOptions {
  accept?: string;
  timeoutMs?: number;
  maxBytes?: number;
  /** Aborts the request (on top of timeoutMs), as fetch's `signal`. */
  signal?: AbortSignal;
}

/**
 * The one way Tessera fetches a URL a tenant chose (a client's jwksUri, a trusted issuer's
 * jwksUri, discovery document and the jwks_uri it names): GET only, over agents whose DNS
 * lookup refuses every resolved address the OutboundAddressPolicy refuses — at connect time,
 * after resolution, so a name that resolves to 169.254.169.254 or rebinds to 10.0.0.1 after
 * registration is refused before any socket is opened. IP literals (which node connects to
 * without a lookup) are checked before the request. No redirects are followed (a 3xx is a
 * failure), the whole exchange has a deadline, and bodies stop at maxBytes (docs/adr/0020).
 */
@Injectable()
export class OutboundHttp {
  private readonly policy: OutboundAddressPolicy;
  private readonly httpAgent: HttpAgent;
  private readonly httpsAgent: HttpsAgent;

  constructor(config: AppConfig) {
    this.policy = new OutboundAddressPolicy(config.outboundAllowedNetworks, config.allowInsecureIssuersForTests);
    const lookup = this.guardedLookup();
    this.httpAgent = new HttpAgent({ keepAlive: false, lookup } as ConstructorParameters<typeof HttpAgent>[0]);
    this.httpsAgent = new HttpsAgent({ keepAlive: false, lookup } as ConstructorParameters<typeof HttpsAgent>[0]);
  }

  /** Why a connection to this IP address would be refused, or undefined. */
  refusal(address: string): string | undefined {
    return this.policy.refusal(address);
  }

  /** GET `url`: its status and body text (at most maxBytes). Rejects on refusal, timeout, redirect or an oversized body. */
  get(url: string, options: OutboundRequestOptions = {}): Promise<{ status: number; body: string }> {
    const target = new URL(url);
    const https = target.protocol === 'https:';
    if (!https && target.protocol !== 'http:') return Promise.reject(new Error(`${target.protocol} URLs are not fetched`));
    const host = target.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host)) {
      const reason = this.policy.refusal(host);
      if (reason) return Promise.reject(refused(host, reason));
    }
    const maxBytes = options.maxBytes ?? OUTBOUND_MAX_BYTES;
    return new Promise((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(target, {
        method: 'GET',
        agent: https ? this.httpsAgent : this.httpAgent,
        headers: { accept: options.accept ?? 'application/json', 'accept-encoding': 'identity' },
        signal: options.signal,
      });
      const timer = setTimeout(
        () => req.destroy(new Error(`no complete answer within ${options.timeoutMs ?? OUTBOUND_TIMEOUT_MS} ms`)),
        options.timeoutMs ?? OUTBOUND_TIMEOUT_MS,
      );
      const fail = (error: Error) => {
        clearTimeout(timer);
        reject(error);
      };
      req.on('error', fail);
      req.on('response', (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400) {
          req.destroy(new Error(`answered a redirect (${status}); redirects are not followed, register the final URL`));
          return;
        }
        if (Number(res.headers['content-length']) > maxBytes) {
          req.destroy(new Error(`the answer is larger than ${maxBytes} bytes`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) req.destroy(new Error(`the answer is larger than ${maxBytes} bytes`));
          else chunks.push(chunk);
        });
        res.on('error', fail);
        res.on('end', () => {
          clearTimeout(timer);
          if (size <= maxBytes) resolve({ status, body: Buffer.concat(chunks).toString('utf8') });
        });
      });
      req.end();
    });
  }

  /**
   * A `fetch` for code that expects one (the guard package's JwksKeySource): GET through get(),
   * answered as a Response. Only the `signal` and `accept` header of `init` are used.
   */
  readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const accept = new Headers(init?.headers).get('accept') ?? undefined;
    const { status, body } = await this.get(url, { accept, signal: init?.signal ?? undefined });
    return new Response(status === 204 || status === 205 ? null : body, { status: status < 200 || status > 599 ? 502 : status });
  };

  /** dns.lookup, then every resolved address is judged; one refused address refuses the name. */
  private guardedLookup(): LookupFunction {
    return ((hostname: string, options: { all?: boolean; family?: number; hints?: number }, callback: (...args: unknown[]) => void) => {
      dnsLookup(hostname, { all: true, family: options?.family ?? 0, hints: options?.hints }, (error, addresses: LookupAddress[]) => {
        if (error) return callback(error);
        if (addresses.length === 0) return callback(new Error(`${hostname} has no address`));
        for (const a of addresses) {
          const reason = this.policy.refusal(a.address);
          if (reason) return callback(refused(`${hostname} (${a.address})`, reason));
        }
        if (options?.all) return callback(null, addresses);
        return callback(null, addresses[0].address, addresses[0].family);
      });
    }) as unknown as LookupFunction;
  }
}

function refused(what: string, reason: string): OutboundAddressRefusedError {
  return new OutboundAddressRefusedError(
    `${what} is ${reason}, which outbound fetches do not reach; an operator can allow it with OUTBOUND_ALLOWED_NETWORKS`,
  );
}
