import type { NextFunction, Request, Response } from 'express';

/**
 * The page connects to other nodes (their WebSocket and GET /cluster, at addresses the cluster or
 * the user names), which are not 'self': hence the schemes in connect-src. Scripts and styles must
 * come from the node itself, so no inline or injected script or style runs, and no site may frame
 * the page.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "connect-src 'self' ws: wss: http: https:",
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
