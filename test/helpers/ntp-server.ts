import { createSocket } from 'node:dgram';
import { writeTimestamp } from '../../src/controllers/time/sntp-client.js';

/** An NTP server on 127.0.0.1 whose clock runs `skewMs` ahead of this machine's; it counts the queries it answers. */
export class LoopbackNTPServer {
  private readonly socket = createSocket('udp4');
  port = 0;
  queries = 0;

  constructor(private readonly skewMs: number) {}

  async start(): Promise<this> {
    this.socket.on('message', (request, from) => {
      this.queries++;
      const answer = Buffer.alloc(48);
      answer[0] = (4 << 3) | 4; // no leap warning, version 4, server mode
      answer[1] = 1; // stratum 1
      answer.write('TEST', 12, 'latin1');
      const t = Date.now() + this.skewMs;
      request.copy(answer, 24, 40, 48); // originate = the client's transmit time
      writeTimestamp(answer, 16, t);
      writeTimestamp(answer, 32, t);
      writeTimestamp(answer, 40, t);
      this.socket.send(answer, from.port, from.address);
    });
    await new Promise<void>((resolve) => this.socket.bind(0, '127.0.0.1', resolve));
    this.port = this.socket.address().port;
    return this;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  stop(): void {
    this.socket.close();
  }
}
