/**
 * The response headers every console answer carries: a strict content security policy (only the
 * console's own scripts, styles and connections; no inline code, no frames, no plugins), the
 * usual hardening headers through Hono's `secureHeaders`, and `Cache-Control: no-store`, so no
 * page with balances stays in a browser cache.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";

/**
 * The console's content security policy, directive by directive. Everything it loads comes from
 * the console itself; `img-src data:` is for the chart's legend markers, nothing else.
 */
export const CONSOLE_CSP = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", "data:"],
  connectSrc: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
} as const;

/**
 * Adds the security headers to every response.
 *
 * @returns The middleware.
 */
export function consoleSecurityHeaders(): MiddlewareHandler {
  const headers = secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: [...CONSOLE_CSP.defaultSrc],
      scriptSrc: [...CONSOLE_CSP.scriptSrc],
      styleSrc: [...CONSOLE_CSP.styleSrc],
      imgSrc: [...CONSOLE_CSP.imgSrc],
      connectSrc: [...CONSOLE_CSP.connectSrc],
      formAction: [...CONSOLE_CSP.formAction],
      frameAncestors: [...CONSOLE_CSP.frameAncestors],
      baseUri: [...CONSOLE_CSP.baseUri],
    },
    xFrameOptions: "DENY",
    // The console speaks plain HTTP on loopback; HSTS would only be noise there.
    strictTransportSecurity: false,
    permissionsPolicy: {
      camera: [],
      microphone: [],
      geolocation: [],
      payment: [],
      usb: [],
    },
  });
  return async (c, next) => {
    await headers(c, next);
    c.res.headers.set("Cache-Control", "no-store");
  };
}
