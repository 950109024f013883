/// The dashboard's one stylesheet, served as `/assets/style.css` (the pages may load styles
/// from their own origin only). Colours meet WCAG AA contrast on white (4.5:1 for text); the
/// state of a grant is always written out too, never shown by colour alone; the layout folds
/// to one column below 40 rem.
enum Stylesheet {
    static let css = """
        :root { --ink: #1b1f24; --muted: #4d5560; --line: #c9ced6; --paper: #ffffff; --wash: #f3f5f8;
          --accent: #0b5cad; --ok: #1d6b35; --warn: #8a4b00; --bad: #a1161f; --ended: #5f6670;
          --issued: #0b5cad; --redeemed: #1d6b35; --denied: #a1161f; --changed: #6a3fa0; --revoked: #8a4b00; --request: #00677a; --other: #5f6670; }
        * { box-sizing: border-box; }
        html { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; color: var(--ink); background: var(--paper); }
        body { margin: 0; }
        a { color: var(--accent); }
        a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible, [tabindex]:focus-visible {
          outline: 3px solid #f0a300; outline-offset: 2px; }
        .skip { position: absolute; left: -999px; top: 0; background: var(--paper); padding: .5rem 1rem; }
        .skip:focus { left: .5rem; z-index: 10; }
        header.top { background: #14293f; color: #fff; padding: .5rem 1rem; display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; }
        header.top .brand { font-weight: 700; margin-right: auto; }
        header.top nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem .75rem; margin: 0; padding: 0; }
        header.top nav a { color: #fff; text-decoration: none; padding: .25rem .4rem; border-radius: .25rem; }
        header.top nav a[aria-current="page"] { background: #fff; color: #14293f; }
        header.top nav a:hover { text-decoration: underline; }
        header.top form { margin: 0; }
        main { padding: 1rem; max-width: 80rem; margin: 0 auto; }
        h1 { font-size: 1.6rem; margin: .5rem 0 1rem; }
        h2 { font-size: 1.25rem; margin: 1.5rem 0 .5rem; }
        p.lead { color: var(--muted); margin-top: -.5rem; }
        .flash { border-left: 6px solid var(--ok); background: #e9f5ec; padding: .75rem 1rem; margin-bottom: 1rem; }
        .flash.problem { border-color: var(--bad); background: #fbeaea; }
        .scroll { overflow-x: auto; position: relative; border: 1px solid var(--line); border-radius: .25rem; }
        table { border-collapse: collapse; width: 100%; }
        caption { text-align: left; font-weight: 600; padding: .5rem; }
        th, td { border-bottom: 1px solid var(--line); padding: .4rem .5rem; text-align: left; vertical-align: top; }
        thead th { background: var(--wash); white-space: nowrap; }
        tbody th[scope="row"] { background: var(--wash); position: sticky; left: 0; }
        td.empty { color: var(--muted); }
        ul.chips { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: .25rem; }
        .chip { display: inline-block; border: 1px solid var(--ok); border-radius: .25rem; padding: .05rem .35rem; font-size: .85rem; white-space: nowrap; }
        .chip.ended { border-color: var(--line); color: var(--ended); background: var(--wash); text-decoration: line-through; }
        .chip .state { font-weight: 600; }
        .state-active { color: var(--ok); } .state-expired, .state-used-up, .state-revoked { color: var(--ended); }
        .badge { display: inline-block; padding: .1rem .5rem; border-radius: 1rem; font-weight: 600; font-size: .9rem; }
        .badge.ok { background: #e3f1e7; color: var(--ok); } .badge.bad { background: #fbeaea; color: var(--bad); }
        .badge.warn { background: #fdf0e0; color: var(--warn); }
        .button, button { font: inherit; display: inline-block; border: 1px solid var(--accent); color: var(--accent); background: var(--paper);
          padding: .3rem .8rem; border-radius: .25rem; cursor: pointer; text-decoration: none; min-height: 2.25rem; }
        .button.danger, button.danger { border-color: var(--bad); color: var(--bad); }
        button.primary { background: var(--accent); color: #fff; }
        button.primary.danger { background: var(--bad); color: #fff; }
        header.top button { border-color: #fff; color: #fff; background: transparent; min-height: 2rem; padding: .15rem .6rem; }
        form.filters { display: flex; flex-wrap: wrap; gap: .75rem; align-items: flex-end; margin-bottom: 1rem; }
        form.filters label, .field label { display: block; font-weight: 600; font-size: .9rem; }
        select { max-width: 100%; }
        form.filters > div { min-width: 0; max-width: 100%; }
        input, select, textarea { font: inherit; padding: .3rem .4rem; border: 1px solid #767f8a; border-radius: .25rem; background: var(--paper); color: var(--ink); }
        fieldset { border: 1px solid var(--line); border-radius: .25rem; margin: 0 0 1rem; }
        legend { font-weight: 600; }
        .field { margin: 0 0 1rem; }
        .hint { color: var(--muted); font-size: .9rem; }
        .confirm { border: 2px solid var(--bad); border-radius: .5rem; padding: 1rem; max-width: 40rem; }
        .confirm.neutral { border-color: var(--accent); }
        .actions { display: flex; flex-wrap: wrap; gap: .75rem; align-items: center; margin-top: 1rem; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0 0 1rem; }
        dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; overflow-wrap: anywhere; }
        .stages { display: grid; grid-template-columns: repeat(5, minmax(12rem, 1fr)); gap: .75rem; overflow-x: auto; }
        .stage { background: var(--wash); border-radius: .5rem; padding: .5rem; }
        .stage h2 { font-size: 1rem; margin: .25rem 0 .5rem; text-transform: capitalize; }
        .card { background: var(--paper); border: 1px solid var(--line); border-radius: .35rem; padding: .5rem; margin-bottom: .5rem; }
        .card h3 { font-size: 1rem; margin: 0 0 .25rem; overflow-wrap: anywhere; }
        .card dl { display: grid; grid-template-columns: max-content 1fr; gap: 0 .5rem; margin: 0; font-size: .9rem; }
        .card dd { margin: 0; }
        .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); gap: 1rem; }
        figure { margin: 0; border: 1px solid var(--line); border-radius: .35rem; padding: .5rem; }
        figcaption { font-weight: 600; margin-bottom: .25rem; }
        svg.chart { width: 100%; height: auto; display: block; max-width: 48rem; }
        figure.wide svg.chart { max-width: 64rem; }
        svg.chart text { font: 11px system-ui, sans-serif; fill: var(--ink); }
        svg.chart .axis { stroke: var(--line); }
        svg.chart .bar { fill: var(--accent); }
        .k-issued { fill: var(--issued); background: var(--issued); } .k-redeemed { fill: var(--redeemed); background: var(--redeemed); }
        .k-denied { fill: var(--denied); background: var(--denied); } .k-changed { fill: var(--changed); background: var(--changed); }
        .k-revoked { fill: var(--revoked); background: var(--revoked); } .k-request { fill: var(--request); background: var(--request); }
        .k-other { fill: var(--other); background: var(--other); }
        ul.legend { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem 1rem; padding: 0; margin: .25rem 0; font-size: .9rem; }
        ul.legend span.swatch { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; vertical-align: middle; border-radius: .15rem; }
        ol.timeline { list-style: none; padding: 0; margin: 0; }
        ol.timeline li { display: grid; grid-template-columns: 12.5rem 12rem 1fr; gap: .5rem; padding: .4rem 0; border-bottom: 1px solid var(--line); }
        ol.timeline .kind { font-weight: 600; }
        ol.timeline .kind.t-denied { color: var(--denied); } ol.timeline .kind.t-revoked { color: var(--revoked); }
        .overdue { color: var(--bad); font-weight: 600; }
        .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
        details { margin: .5rem 0; }
        footer { color: var(--muted); font-size: .85rem; padding: 1rem; text-align: center; }
        @media (max-width: 40rem) {
          main { padding: .75rem; }
          ol.timeline li { grid-template-columns: 1fr; gap: 0; }
          .stages { grid-template-columns: 1fr; }
          dl.facts { grid-template-columns: 1fr; }
          table.stack thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
          table.stack tr { display: block; border-bottom: 2px solid var(--line); padding: .25rem 0; }
          table.stack td, table.stack tbody th { display: block; border: 0; padding: .15rem .5rem; }
          table.stack td[data-label]::before { content: attr(data-label) ": "; font-weight: 600; }
        }
        """

    /// The tab's icon: a small shield, drawn here.
    static let icon = """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><path d="M16 2 4 7v8c0 7.5 5.1 13.4 12 15 6.9-1.6 12-7.5 12-15V7z" fill="#14293f"/><path d="m10 16 4 4 8-9" stroke="#fff" stroke-width="3" fill="none"/></svg>
        """
}
