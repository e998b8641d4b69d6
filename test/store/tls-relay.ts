/**
 * TLS in front of the real S3 server, which speaks plain http: the relay ends the TLS
 * connection with a certificate from a test CA and forwards the bytes inside it unchanged,
 * so requests and their signatures reach the server exactly as the client sent them.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';

export class TlsRelay {
  private server: tls.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(
    private readonly upstreamPort: number,
    private readonly identity: { key: string; cert: string },
  ) {}

  async listen(): Promise<void> {
    this.server = tls.createServer(this.identity, (client) => {
      const upstream = net.connect({ host: '127.0.0.1', port: this.upstreamPort });
      this.sockets.add(client).add(upstream);
      const end = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.pipe(upstream).pipe(client);
      client.on('close', end).on('error', end);
      upstream.on('close', end).on('error', end);
    });
    // A client that refuses the certificate ends the handshake; that is the test's business.
    this.server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
