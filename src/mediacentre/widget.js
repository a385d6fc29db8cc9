/*
 * <sesame-mediacentre>: a user's médiacentre, for an ENT page to embed. No dependencies.
 *
 *   <script src="https://sesame.example.org/mediacentre/widget.js" defer></script>
 *   <sesame-mediacentre
 *       src="https://sesame.example.org/mediacentre/v1/ressources"
 *       token="v1.…"                      (a widget token the ENT's server obtained for this user)
 *       token-url="/ent/sesame-token"     (optional: same-origin URL answering {"token": "…"},
 *                                          asked when there is no token or it has expired)
 *       user-key="…"                      (optional: an opaque per-user key, so that users who
 *                                          share a computer keep separate favourites)
 *       heading="Mes ressources">         (optional title)
 *   </sesame-mediacentre>
 *
 * The listing is the médiacentre's JSON (listeRessources.ressource). Each tile opens the
 * resource's sign-on URL in a new tab and fires a `sesame-open` event ({detail: {idRessource}}).
 * Favourites live in the browser (localStorage). Every control is a native link, button, field
 * or list, so the whole widget works from the keyboard; `data-state` on the element says
 * "loading", "ready" or "error".
 */
(() => {
  "use strict";

  const STYLE = `
    :host { display: block; font-family: system-ui, sans-serif; color: #1d2430; --accent: #1f5fbf; }
    .head { display: flex; align-items: baseline; justify-content: space-between; gap: 1rem; flex-wrap: wrap; }
    h2 { font-size: 1.25rem; margin: 0 0 .5rem; }
    .count { color: #4a5566; font-size: .9rem; margin: 0; }
    .filters { display: flex; flex-wrap: wrap; gap: .75rem; align-items: flex-end; margin: .5rem 0 1rem; }
    label { display: flex; flex-direction: column; font-size: .8rem; font-weight: 600; gap: .25rem; }
    input, select, button { font: inherit; font-size: .9rem; }
    input, select { padding: .35rem .5rem; border: 1px solid #8a94a6; border-radius: 4px; background: #fff; min-width: 10rem; max-width: 16rem; }
    .toggle { padding: .4rem .75rem; border: 1px solid #8a94a6; border-radius: 4px; background: #fff; cursor: pointer; }
    .toggle[aria-pressed="true"] { background: var(--accent); border-color: var(--accent); color: #fff; }
    ul.tiles { list-style: none; margin: 0; padding: 0; display: grid; gap: 1rem;
               grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); }
    li.tile { position: relative; border: 1px solid #d3d8e0; border-radius: 8px; background: #fff; overflow: hidden;
              box-shadow: 0 1px 2px rgba(0,0,0,.06); }
    a.open { display: flex; flex-direction: column; height: 100%; color: inherit; text-decoration: none; }
    a.open:hover .title { text-decoration: underline; }
    .thumb { width: 100%; aspect-ratio: 4 / 3; object-fit: cover; background: #eef1f5; display: block; }
    .placeholder { display: flex; align-items: center; justify-content: center; font-size: 2rem; font-weight: 700;
                   color: #fff; letter-spacing: .05em; }
    .body { padding: .6rem .75rem .8rem; display: flex; flex-direction: column; gap: .25rem; }
    .title { font-weight: 650; font-size: .95rem; line-height: 1.25; margin: 0; padding-right: 1.8rem; }
    .publisher { margin: 0; font-size: .8rem; color: #4a5566; }
    .badges { display: flex; flex-wrap: wrap; gap: .25rem; margin-top: .25rem; }
    .badge { font-size: .7rem; background: #eef1f5; border-radius: 999px; padding: .1rem .5rem; color: #2f3a4a; }
    .fav { position: absolute; top: .4rem; right: .4rem; width: 2rem; height: 2rem; border-radius: 50%; border: none;
           background: rgba(255,255,255,.92); cursor: pointer; font-size: 1.1rem; line-height: 1; color: #6b7586; }
    .fav[aria-pressed="true"] { color: #d08a00; }
    a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible {
      outline: 3px solid #ffbf47; outline-offset: 2px; }
    .message { padding: 1rem; border-radius: 6px; background: #f4f6f9; }
    .message.error { background: #fdecea; color: #8a1c12; }
    .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  `;

  /** Colours of the placeholder tile, by typePresentation code. */
  const COLOURS = { MAN: "#1f5fbf", MUL: "#8a3fb8", DIC: "#1b7f5a", PRO: "#c0552b", DOC: "#3f6b8a", ACC: "#a3476b" };

  const fold = (text) => (text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  const httpUrl = (text) => {
    try {
      const url = new URL(text);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (_) {
      return null;
    }
  };
  const names = (terms) => (Array.isArray(terms) ? terms.map((t) => t && t.nom).filter(Boolean) : []);

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  class SesameMediacentre extends HTMLElement {
    static get observedAttributes() {
      return ["token", "src"];
    }

    constructor() {
      super();
      this.attachShadow({ mode: "open" });
      this.resources = [];
      this.filters = { text: "", type: "", level: "", domain: "", school: "", favourites: false };
      this.loading = null;
    }

    connectedCallback() {
      if (!this.shadowRoot.firstChild) this.renderFrame();
      this.load();
    }

    /** A page that changes `src` or hands over a new `token` gets a fresh listing. */
    attributeChangedCallback(name, before, after) {
      if (this.ownTokenUpdate || !this.isConnected || !this.shadowRoot.firstChild || before === after) return;
      this.load();
    }

    /** The parts that do not depend on the data. */
    renderFrame() {
      const heading = this.getAttribute("heading") || "Mes ressources";
      this.countNode = el("p", { class: "count", "aria-live": "polite" });
      this.filtersNode = el("div", { class: "filters", role: "search" });
      this.listNode = el("div", { class: "list" });
      this.shadowRoot.append(
        el("style", { text: STYLE }),
        el("section", { "aria-label": heading },
          el("div", { class: "head" }, el("h2", { text: heading }), this.countNode),
          this.filtersNode,
          this.listNode));
    }

    setState(state) {
      this.setAttribute("data-state", state);
      this.toggleAttribute("aria-busy", state === "loading");
    }

    async load() {
      const run = (this.loading = Symbol("load"));
      this.setState("loading");
      this.countNode.textContent = "Chargement…";
      try {
        let token = this.getAttribute("token") || (await this.freshToken());
        let response = await this.fetchListing(token);
        if (response.status === 401 && this.getAttribute("token-url")) {
          token = await this.freshToken();
          response = await this.fetchListing(token);
        }
        const body = await response.json().catch(() => null);
        if (run !== this.loading) return;
        if (!response.ok) {
          const message = body && body.Erreur && body.Erreur.Message;
          throw new Error(message || `Le médiacentre a répondu ${response.status}.`);
        }
        const list = body && body.listeRessources && body.listeRessources.ressource;
        this.resources = Array.isArray(list) ? list : [];
        this.renderFilters();
        this.renderList();
        this.setState("ready");
      } catch (error) {
        if (run !== this.loading) return;
        this.resources = [];
        this.filtersNode.replaceChildren();
        this.countNode.textContent = "";
        this.listNode.replaceChildren(el("p", { class: "message error", role: "alert",
          text: `Vos ressources ne peuvent pas être affichées : ${error.message}` }));
        this.setState("error");
      }
    }

    fetchListing(token) {
      const src = this.getAttribute("src");
      if (!src) throw new Error("l'attribut src manque.");
      const headers = { Accept: "application/json" };
      if (token) headers.Authorization = `Bearer ${token}`;
      // "no-cache": the browser revalidates its copy with the ETag (304 when nothing changed).
      return fetch(src, { headers, cache: "no-cache", credentials: "omit" });
    }

    async freshToken() {
      const url = this.getAttribute("token-url");
      if (!url) return null;
      const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
      if (!response.ok) throw new Error("votre ENT n'a pas pu ouvrir la session du médiacentre.");
      const token = (await response.json()).token;
      this.ownTokenUpdate = true;
      this.setAttribute("token", token);
      this.ownTokenUpdate = false;
      return token;
    }

    /* Favourites ------------------------------------------------------------------------------ */

    get storageKey() {
      return `sesame-mediacentre:favoris:${this.getAttribute("user-key") || "défaut"}`;
    }

    favourites() {
      try {
        return new Set(JSON.parse(localStorage.getItem(this.storageKey) || "[]"));
      } catch (_) {
        return new Set();
      }
    }

    toggleFavourite(id) {
      const favourites = this.favourites();
      if (favourites.has(id)) favourites.delete(id);
      else favourites.add(id);
      try {
        localStorage.setItem(this.storageKey, JSON.stringify([...favourites]));
      } catch (_) {
        /* Private browsing without storage: favourites last for the page only. */
      }
      return favourites.has(id);
    }

    /* Filters --------------------------------------------------------------------------------- */

    renderFilters() {
      const types = new Map();
      const levels = new Set();
      const domains = new Set();
      const schools = new Map();
      for (const r of this.resources) {
        if (r.typePresentation && r.typePresentation.code) types.set(r.typePresentation.code, r.typePresentation.nom);
        names(r.niveauEducatif).forEach((n) => levels.add(n));
        names(r.domaineEnseignement).forEach((n) => domains.add(n));
        (r.idEtablissement || []).forEach((s) => schools.set(s.UAI, s.nom || s.UAI));
      }
      const sorted = (values) => [...values].sort((a, b) => a[1].localeCompare(b[1], "fr"));
      const select = (key, label, options) => {
        const node = el("select", { name: key, onchange: (e) => { this.filters[key] = e.target.value; this.renderList(); } },
          el("option", { value: "", text: "Tous" }),
          ...options.map(([value, text]) => el("option", { value, text, selected: this.filters[key] === value })));
        return el("label", {}, label, node);
      };
      const search = el("input", {
        type: "search", name: "text", value: this.filters.text, placeholder: "Titre, éditeur, discipline…",
        oninput: (e) => { this.filters.text = e.target.value; this.renderList(); },
      });
      const favourites = el("button", {
        type: "button", class: "toggle", "aria-pressed": String(this.filters.favourites), text: "★ Favoris uniquement",
        onclick: (e) => {
          this.filters.favourites = !this.filters.favourites;
          e.currentTarget.setAttribute("aria-pressed", String(this.filters.favourites));
          this.renderList();
        },
      });
      const controls = [
        el("label", {}, "Rechercher", search),
        select("type", "Type de ressource", sorted(types)),
        select("level", "Niveau", sorted([...levels].map((n) => [n, n]))),
        select("domain", "Domaine d'enseignement", sorted([...domains].map((n) => [n, n]))),
      ];
      // Schools are worth showing (filter, badges) only when the listing spans several.
      this.severalSchools = schools.size > 1;
      if (this.severalSchools) controls.push(select("school", "Établissement", sorted(schools)));
      controls.push(favourites);
      this.filtersNode.replaceChildren(...controls);
    }

    matches(r, favourites) {
      const f = this.filters;
      if (f.type && (!r.typePresentation || r.typePresentation.code !== f.type)) return false;
      if (f.level && !names(r.niveauEducatif).includes(f.level)) return false;
      if (f.domain && !names(r.domaineEnseignement).includes(f.domain)) return false;
      if (f.school && !(r.idEtablissement || []).some((s) => s.UAI === f.school)) return false;
      if (f.favourites && !favourites.has(r.idRessource)) return false;
      if (f.text) {
        const haystack = fold([r.nomRessource, r.nomEditeur, r.typePresentation && r.typePresentation.nom,
          ...names(r.niveauEducatif), ...names(r.domaineEnseignement), ...names(r.typePedagogique),
          ...names(r.typologieDocument)].join(" "));
        if (!fold(f.text).split(/\s+/).filter(Boolean).every((word) => haystack.includes(word))) return false;
      }
      return true;
    }

    /* Tiles ----------------------------------------------------------------------------------- */

    renderList() {
      const favourites = this.favourites();
      const shown = this.resources
        .filter((r) => this.matches(r, favourites))
        .sort((a, b) => (favourites.has(b.idRessource) - favourites.has(a.idRessource))
          || (a.nomRessource || "").localeCompare(b.nomRessource || "", "fr"));
      const total = this.resources.length;
      this.countNode.textContent = shown.length === total
        ? `${total} ressource${total > 1 ? "s" : ""}`
        : `${shown.length} ressource${shown.length > 1 ? "s" : ""} sur ${total}`;
      if (shown.length === 0) {
        const text = total === 0
          ? "Aucune ressource ne vous est attribuée pour le moment."
          : "Aucune ressource ne correspond à ces critères.";
        this.listNode.replaceChildren(el("p", { class: "message", text }));
        return;
      }
      const list = el("ul", { class: "tiles", "aria-label": "Ressources" });
      for (const r of shown) list.append(this.tile(r, favourites.has(r.idRessource)));
      this.listNode.replaceChildren(list);
    }

    tile(r, favourite) {
      const title = r.nomRessource || r.idRessource;
      const href = httpUrl(r.urlAccesRessource);
      const code = (r.typePresentation && r.typePresentation.code) || "";
      const placeholder = () => el("div", { class: "thumb placeholder", "aria-hidden": "true",
        style: `background:${COLOURS[code] || "#5b6678"}`, text: code || "?" });
      const thumbUrl = httpUrl(r.urlVignette);
      const thumb = thumbUrl
        ? el("img", { class: "thumb", src: thumbUrl, alt: "", loading: "lazy",
            onerror: (e) => e.target.replaceWith(placeholder()) })
        : placeholder();
      const badges = el("div", { class: "badges" },
        r.typePresentation && r.typePresentation.nom ? el("span", { class: "badge", text: r.typePresentation.nom }) : null,
        ...(this.severalSchools && r.idEtablissement
          ? r.idEtablissement.map((s) => el("span", { class: "badge", text: s.nom || s.UAI }))
          : []));
      const content = [thumb, el("div", { class: "body" },
        el("h3", { class: "title", text: title }),
        el("p", { class: "publisher", text: r.nomEditeur || "" }),
        badges)];
      const link = href
        ? el("a", { class: "open", href, target: "_blank", rel: "noopener",
            "aria-label": `${title}, ${r.nomEditeur || ""} (nouvel onglet)`,
            onclick: () => this.dispatchEvent(new CustomEvent("sesame-open",
              { bubbles: true, composed: true, detail: { idRessource: r.idRessource } })) },
          ...content)
        : el("div", { class: "open" }, ...content);
      const star = el("button", {
        type: "button", class: "fav", "aria-pressed": String(favourite),
        "aria-label": `${favourite ? "Retirer" : "Ajouter"} « ${title} » ${favourite ? "des" : "aux"} favoris`,
        text: favourite ? "★" : "☆",
        onclick: () => {
          this.toggleFavourite(r.idRessource);
          this.renderList();
          // Keep the keyboard where it was: on the same star, in the redrawn list.
          const again = [...this.shadowRoot.querySelectorAll("li.tile")]
            .find((li) => li.dataset.id === r.idRessource);
          if (again) again.querySelector(".fav").focus();
        },
      });
      return el("li", { class: "tile", "data-id": r.idRessource }, link, star);
    }
  }

  if (!customElements.get("sesame-mediacentre")) {
    customElements.define("sesame-mediacentre", SesameMediacentre);
  }
})();
