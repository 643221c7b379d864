// Starts Mirador on this image's manifest and shows the line selected in its annotation list masked, in the
// region panel beside it (the panel's HTML comes from /viewer/{identifier}/panel?region=pred:{id}).
(() => {
  const config = JSON.parse(document.getElementById('viewer-config').textContent);
  const viewer = Mirador.viewer({
    id: 'mirador',
    annotations: {
      // The OCR lines are `supplementing` annotations, which Mirador leaves out by default.
      filteredMotivations: ['oa:commenting', 'oa:tagging', 'sc:painting', 'commenting', 'tagging', 'supplementing'],
    },
    window: {
      allowClose: false,
      allowMaximize: false,
      highlightAllAnnotations: true,
      sideBarOpen: config.ocr,
      sideBarPanel: config.ocr ? 'annotations' : 'info',
    },
    windows: [{ manifestId: config.manifest }],
    workspaceControlPanel: { enabled: false },
  });

  const panel = document.getElementById('region-panel');
  let shown = null;

  async function showRegion(region) {
    const url = new URL(config.panel);
    url.searchParams.set('region', region);
    panel.innerHTML = await (await fetch(url)).text();
    const page = new URL(window.location.href);
    page.searchParams.set('region', region);
    window.history.replaceState(null, '', page);
  }

  viewer.store.subscribe(() => {
    const [first] = Object.values(viewer.store.getState().windows);
    const selected = first && first.selectedAnnotationId;
    if (!selected || selected === shown) return;
    shown = selected;
    const line = selected.match(/\/ocr\.json\/([^/]+)$/);
    if (line) showRegion(`pred:${decodeURIComponent(line[1])}`);
  });
})();
