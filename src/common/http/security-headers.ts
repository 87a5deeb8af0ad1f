import type { NextFunction, Request, Response } from 'express';

/**
 * The page connects to other nodes' WebSocket URLs (GET /cluster), which are not 'self': hence
 * `ws: wss:` in connect-src. Everything else (scripts, styles) must come from the node itself, so
 * no inline script or style can run, and no other site may frame the page.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "connect-src 'self' ws: wss:",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Set on every HTTP answer of the client port (web client, /cluster, /health): constant, so cheap. */
export function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  next();
}
