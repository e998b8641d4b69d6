/**
 * A plain TCP relay between the S3 client and the real server, so a test can stop the
 * server at a known point of an upload: after N request bytes the relay stops reading from
 * the client, the test kills the server, and every connection through the relay breaks.
 * It forwards bytes and nothing else; it does not understand S3.
 */
import * as net from 'node:net';

export class TcpRelay {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private holdAfter: number | null = null;
  private onHeld: (() => void) | null = null;
  port = 0;
  /** Bytes the clients have sent through the relay so far (requests, headers included). */
  bytesUp = 0;

  constructor(private readonly upstreamPort: number) {}

  async listen(): Promise<void> {
    this.server = net.createServer((client) => this.relay(client));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Resolves once one connection has carried `bytes` request bytes and is held there. */
  holdUploadAfter(bytes: number): Promise<void> {
    this.holdAfter = bytes;
    return new Promise((resolve) => {
      this.onHeld = resolve;
    });
  }

  private relay(client: net.Socket): void {
    const upstream = net.connect({ host: '127.0.0.1', port: this.upstreamPort });
    this.sockets.add(client).add(upstream);
    let forwarded = 0;
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('data', (chunk) => {
      forwarded += chunk.length;
      this.bytesUp += chunk.length;
      upstream.write(chunk);
      if (this.holdAfter !== null && forwarded >= this.holdAfter) {
        client.pause();
        this.holdAfter = null;
        this.onHeld?.();
      }
    });
    upstream.on('data', (chunk) => client.write(chunk));
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
