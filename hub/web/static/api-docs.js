// Starts Swagger UI on the hub's /docs page (hub/api/docs.py). A file, not an inline
// script, so the page's Content-Security-Policy admits scripts from the hub only.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: document.body.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    displayRequestDuration: true,
    showExtensions: true,
    showCommonExtensions: true,
    // No online validator badge: the page asks nothing of any other host.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
