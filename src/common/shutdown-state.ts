import { Injectable } from '@nestjs/common';

/**
 * Set by main.ts when a SIGTERM or SIGINT arrives: from then on /health/ready answers 503 (while requests
 * are still served for SHUTDOWN_DRAIN_MS) and a crashed consumer is no longer restarted.
 */
@Injectable()
export class ShutdownState {
  began = false;
}
