/* Search result snippets from the page's text only.
 *
 * Sphinx's searchtools.js fetches each hit's HTML page and cuts its snippet from the text of the
 * element with role="main". In this theme that element also holds the page's chrome (the
 * article header's buttons and mode menu, the in-page contents, previous/next links, the footer)
 * and the diagrams, so snippets read "System Settings Light Dark" or Mermaid source. The index
 * itself is built from the document tree and holds none of that; this makes the snippets match:
 * they come from the article (<article class="bd-article">), without diagrams, header links,
 * scripts and styles. Loaded on search.html only, after searchtools.js.
 */
(function () {
  "use strict";
  if (typeof Search === "undefined") return;
  const SKIP = [".headerlink", "script", "style", "pre.mermaid", ".mermaid", "svg", "object",
                ".no-search", "[data-no-search]"];
  const original = Search.htmlToText;
  Search.htmlToText = (htmlString, anchor) => {
    const doc = new DOMParser().parseFromString(htmlString, "text/html");
    const article = doc.querySelector("article.bd-article");
    if (!article) return original(htmlString, anchor);
    for (const el of article.querySelectorAll(SKIP.join(","))) el.remove();
    if (anchor) {
      let part = null;
      try { part = article.querySelector(anchor); } catch (e) { part = null; }
      if (part) return part.textContent;
    }
    return article.textContent;
  };
})();
