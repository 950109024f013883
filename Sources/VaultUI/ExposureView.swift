import Foundation
import VaultCore

/// The exposure grid and the list of grants under it, each active one with its revoke button.
enum ExposureView {
    static func body(grid: ExposureGrid, grants: [Grant], vendorNames: [String: String], showEnded: Bool, now: Date) -> String {
        let active = grants.filter { $0.state(at: now) == .active }
        let readers = Set(active.map(\.vendorID)).count
        var html = """
            <h1>Who can see what</h1>
            <p class="lead">\(active.count) active grant\(active.count == 1 ? "" : "s") let \(readers) vendor\(readers == 1 ? "" : "s") \
            read your data. Each cell lists the grants that cover that piece of data for that vendor; \
            ended grants are struck through and greyed.</p>
            <p><a href="/exposure?ended=\(showEnded ? "hide" : "show")">\(showEnded ? "Hide ended grants" : "Show ended grants too")</a></p>
            """
        // A vendor is listed while it holds a grant shown here, even one that covers nothing set yet.
        let rows = grid.rows.compactMap { row -> ExposureGrid.Row? in
            var row = row
            if !showEnded {
                row.cells = row.cells.map { $0.filter { $0.state == .active } }
                row.grants = row.grants.filter { $0.state(at: now) == .active }
            }
            return row.grants.isEmpty ? nil : row
        }
        if rows.isEmpty {
            html += "<p>No vendor can read anything\(showEnded ? "" : " now"). Share with <code>vrm grant create</code>, or approve a vendor's request.</p>"
        } else {
            html += """
                <div class="scroll" role="region" aria-label="Exposure grid, scrolls sideways" tabindex="0">
                <table id="exposure-grid"><caption>Vendors (rows) × your data (columns)</caption><thead><tr><th scope="col">Vendor</th>
                """
            for column in grid.columns {
                html += "<th scope=\"col\" data-column=\"\(HTML.text(column.id))\" title=\"\(HTML.text(column.hint))\">\(HTML.text(column.title))</th>"
            }
            html += "</tr></thead><tbody>"
            for row in rows {
                let idle = row.cells.allSatisfy(\.isEmpty) ? "<br><span class=\"hint\">its grants cover nothing set yet</span>" : ""
                html += "<tr data-vendor=\"\(HTML.text(row.vendorID))\"><th scope=\"row\">\(HTML.text(row.vendor))\(idle)</th>"
                for (column, marks) in zip(grid.columns, row.cells) {
                    if marks.isEmpty {
                        html +=
                            "<td class=\"empty\" data-column=\"\(HTML.text(column.id))\"><span aria-hidden=\"true\">·</span><span class=\"visually-hidden\">no grant</span></td>"
                        continue
                    }
                    html += "<td data-column=\"\(HTML.text(column.id))\"><ul class=\"chips\">"
                    for mark in marks { html += "<li>" + chip(mark) + "</li>" }
                    html += "</ul></td>"
                }
                html += "</tr>"
            }
            html += "</tbody></table></div>"
        }
        html += grantsTable(grants: grants, vendorNames: vendorNames, showEnded: showEnded, now: now)
        return html
    }

    /// One grant in a cell: its id, its state in words, until when, and its uses.
    static func chip(_ mark: ExposureGrid.Mark) -> String {
        let g = mark.grant
        let ended = mark.state != .active
        var parts = [String]()
        if let detail = mark.detail { parts.append(HTML.text(detail)) }
        parts.append(ended ? "<span class=\"state\">\(mark.state.rawValue)</span>" : "")
        parts.append(g.expiresAt.map { "until " + Shown.timeElement($0, dayOnly: true) } ?? "no end date")
        parts.append(uses(g))
        let label = parts.filter { !$0.isEmpty }.joined(separator: " · ")
        return
            "<span class=\"chip\(ended ? " ended" : "")\" data-grant=\"\(HTML.text(g.id))\" data-state=\"\(mark.state.rawValue)\"><a href=\"#grant-\(HTML.text(g.id))\">\(HTML.text(short(g.id)))</a> \(label)</span>"
    }

    static func uses(_ g: Grant) -> String {
        g.maxUses.map { "\(g.useCount)/\($0) uses" } ?? "\(g.useCount) use\(g.useCount == 1 ? "" : "s")"
    }

    static func short(_ id: String) -> String { id.count > 11 ? String(id.prefix(11)) + "…" : id }

    static func grantsTable(grants: [Grant], vendorNames: [String: String], showEnded: Bool, now: Date) -> String {
        let shown = grants.filter { showEnded || $0.state(at: now) == .active }.sorted { ExposureGrid.activeFirst($0, $1, now: now) }
        guard !shown.isEmpty else { return "" }
        var html = """
            <h2 id="grants">Grants</h2>
            <div class="scroll"><table class="stack"><thead><tr><th scope="col">Grant</th><th scope="col">Vendor</th><th scope="col">State</th>\
            <th scope="col">Shares</th><th scope="col">Purpose</th><th scope="col">Until</th><th scope="col">Uses</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead><tbody>
            """
        for g in shown {
            let state = g.state(at: now)
            let vendor = vendorNames[g.vendorID] ?? g.vendorName ?? "(removed vendor)"
            html += """
                <tr id="grant-\(HTML.text(g.id))" data-grant="\(HTML.text(g.id))"><td data-label="Grant"><code>\(HTML.text(g.id))</code></td>\
                <td data-label="Vendor">\(HTML.text(vendor))</td>\
                <td data-label="State" class="state-\(state.rawValue)">\(state.rawValue)\(g.binding == .key ? " (key-bound)" : "")</td>\
                <td data-label="Shares">\(HTML.text(g.scopes.map(\.description).joined(separator: ", ")))</td>\
                <td data-label="Purpose">\(HTML.text(g.purpose.rawValue))</td>\
                <td data-label="Until">\(g.expiresAt.map { Shown.timeElement($0) + " (" + Shown.relative($0, now: now) + ")" } ?? "no end date")</td>\
                <td data-label="Uses">\(uses(g))</td><td>
                """
            if state == .active {
                html +=
                    "<a class=\"button danger\" href=\"/grants/\(HTML.component(g.id))/revoke\" aria-label=\"Revoke grant \(HTML.text(g.id)) for \(HTML.text(vendor))\">Revoke…</a>"
            }
            html += "</td></tr>"
        }
        return html + "</tbody></table></div>"
    }
}
