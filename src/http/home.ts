import type { App } from './context.js';

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Tandem</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 44rem; margin: 3rem auto; padding: 0 1rem; color: #1f2933; }
  h1 { font-size: 1.6rem; margin-bottom: .25rem; } code { background: #eef1f4; padding: .1rem .3rem; border-radius: 4px; }
  a { color: #0b5cad; } .muted { color: #52606d; }
</style></head>
<body>
<h1>Tandem is running</h1>
<p class="muted">One lead lifecycle for marketing and sales: a shared record, a funnel with owners, scores on fit and interest, and a handoff agreement the software enforces.</p>
<ul>
  <li><a href="/docs">API documentation</a> (OpenAPI 3.1 at <a href="/api/openapi.json">/api/openapi.json</a>)</li>
  <li><a href="/health">Health</a></li>
</ul>
<p>Sign in with <code>POST /api/auth/login</code> and a demo user printed in the terminal, or create an API key and send it as <code>Authorization: Bearer &lt;key&gt;</code>.</p>
<p>Websites send behaviour to <code>POST /v1/batch</code> (Segment-compatible; write keys at <code>GET /api/write-keys</code>). Import HubSpot or Salesforce exports with <code>POST /api/imports/upload</code> or <code>npm run tandem -- import</code>.</p>
<p class="muted">The web app for both teams is being built; today Tandem is driven through its REST API and command line (<code>npm run tandem -- help</code>).</p>
</body></html>`;

/** A landing page at / so a person who opens the URL knows where to go next. */
export async function homeRoutes(app: App): Promise<void> {
  app.get('/', { config: { public: true }, schema: { hide: true } }, async (_request, reply) => reply.type('text/html; charset=utf-8').send(PAGE));
}
