import Foundation
import VaultCore

/// Access requests, and the confirmation pages every action goes through: each holds the
/// one form that performs the action, with its own page token.
enum DecisionViews {
    static func requests(_ all: [AccessRequest]) -> String {
        // Waiting: the pending ones, and the unreadable ones (which can only be denied).
        let pending = all.filter { $0.status == .pending || $0.status == .unreadable }
        var html =
            "<h1>Access requests</h1><p class=\"lead\">Vendors you gave a request link ask here for what they want to read. Approving issues a grant bound to the vendor's key; you can narrow what it asked for.</p>"
        html += "<h2>Waiting for you (\(pending.count))</h2>"
        if pending.isEmpty {
            html += "<p>No request is waiting. Make a link for a vendor with <code>vrm request link</code>.</p>"
        } else {
            html +=
                "<div class=\"scroll\"><table class=\"stack\" id=\"pending-requests\"><thead><tr><th scope=\"col\">Received</th><th scope=\"col\">Vendor</th><th scope=\"col\">Asks for</th><th scope=\"col\">Purpose</th><th scope=\"col\"><span class=\"visually-hidden\">Actions</span></th></tr></thead><tbody>"
            for r in pending {
                let vendor = r.body?.vendor.name ?? "(unreadable request)"
                html += """
                    <tr data-request="\(HTML.text(r.id))"><td data-label="Received">\(Shown.timeElement(r.receivedAt))</td>\
                    <td data-label="Vendor">\(HTML.text(vendor))\(r.body?.vendor.site.map { " <span class=\"hint\">\(HTML.text($0))</span>" } ?? "")\(copiesNote(r))</td>\
                    <td data-label="Asks for">\(HTML.text(r.body?.scopes.joined(separator: ", ") ?? r.problem ?? ""))</td>\
                    <td data-label="Purpose">\(HTML.text(r.body?.purpose ?? "-"))</td><td><span class="actions">
                    """
                if r.body != nil, r.copies.isEmpty {
                    html +=
                        "<a class=\"button\" href=\"/requests/\(HTML.component(r.id))/approve\" aria-label=\"Approve the request from \(HTML.text(vendor))\">Approve…</a>"
                }
                html +=
                    "<a class=\"button danger\" href=\"/requests/\(HTML.component(r.id))/deny\" aria-label=\"Deny the request from \(HTML.text(vendor))\">Deny…</a></span></td></tr>"
            }
            html += "</tbody></table></div>"
        }
        let decided = all.filter { $0.status != .pending && $0.status != .unreadable }.sorted {
            ($0.decidedAt ?? $0.receivedAt) > ($1.decidedAt ?? $1.receivedAt)
        }.prefix(50)
        if !decided.isEmpty {
            html +=
                "<h2>Answered and expired</h2><div class=\"scroll\"><table class=\"stack\"><thead><tr><th scope=\"col\">Received</th><th scope=\"col\">Vendor</th><th scope=\"col\">Status</th><th scope=\"col\">Grant</th></tr></thead><tbody>"
            for r in decided {
                html += """
                    <tr data-request="\(HTML.text(r.id))"><td data-label="Received">\(Shown.timeElement(r.receivedAt))</td>\
                    <td data-label="Vendor">\(HTML.text(r.body?.vendor.name ?? "?"))</td><td data-label="Status">\(r.status.rawValue)</td>\
                    <td data-label="Grant">\(r.grantID.map { "<code>\(HTML.text($0))</code>" } ?? "-")</td></tr>
                    """
            }
            html += "</tbody></table></div>"
        }
        return html
    }

    /// Copies of a pending request (the same one-time code under other ids): which one the
    /// vendor was given cannot be told from them, so approval is left to the CLI's
    /// `--copies-checked` once the vendor has said.
    static func copiesNote(_ r: AccessRequest) -> String {
        guard !r.copies.isEmpty else { return "" }
        return
            " <strong class=\"hint\" role=\"note\">Copied: \(HTML.text(r.copies.joined(separator: ", "))) \(r.copies.count == 1 ? "carries" : "carry") this one's one-time code. Ask the vendor which id it was given, then approve that one with <code>vrm request approve ID --copies-checked</code>.</strong>"
    }

    /// A confirmation box: what will happen, the form, and a way back.
    static func confirm(
        title: String, facts: [(String, String)], consequence: String, action: String, token: String, fields: String, button: String, danger: Bool, back: String
    ) -> String {
        var html = "<h1>\(HTML.text(title))</h1><section class=\"confirm\(danger ? "" : " neutral")\" aria-labelledby=\"confirm-what\">"
        html += "<dl class=\"facts\">"
        for (name, value) in facts { html += "<dt>\(HTML.text(name))</dt><dd>\(value)</dd>" }
        html += "</dl><p id=\"confirm-what\">\(HTML.text(consequence))</p>"
        html += """
            <form method="post" action="\(HTML.text(action))" id="confirm-form"><input type="hidden" name="token" value="\(HTML.text(token))">\(fields)\
            <div class="actions"><button type="submit" class="primary\(danger ? " danger" : "")" id="confirm">\(HTML.text(button))</button>\
            <a href="\(HTML.text(back))" id="cancel">Cancel</a></div></form></section>
            """
        return html
    }

    static func revoke(_ g: Grant, vendor: String, action: String, token: String) -> String {
        confirm(
            title: "Revoke grant \(g.id)?",
            facts: [
                ("Vendor", HTML.text(vendor)), ("Shares", HTML.text(g.scopes.map(\.description).joined(separator: ", "))),
                ("Purpose", HTML.text(g.purpose.rawValue)), ("Used", ExposureView.uses(g)),
                ("Until", g.expiresAt.map { Shown.timeElement($0) } ?? "no end date"),
            ],
            consequence:
                "\(vendor)'s next request with this grant is refused, and the stored share is destroyed. This cannot be undone; a new grant would need a new token.",
            action: action, token: token, fields: "", button: "Revoke the grant", danger: true, back: "/exposure#grant-\(g.id)")
    }

    static func approve(_ r: AccessRequest, body: AccessRequestBody, action: String, token: String) -> String {
        var fields = "<fieldset><legend>Grant these of the scopes asked</legend>"
        for (index, scope) in body.scopes.enumerated() {
            fields +=
                "<div><input type=\"checkbox\" id=\"scope-\(index)\" name=\"scope\" value=\"\(HTML.text(scope))\" checked> <label for=\"scope-\(index)\">\(HTML.text(scope))</label></div>"
        }
        fields += "</fieldset>"
        // Shorter in days, or in hours when less than a day was asked (an hour at the least).
        let (field, unit, most): (String, String, Int64) =
            body.expiresIn >= 86_400 ? ("expires_days", "days", body.expiresIn / 86_400) : ("expires_hours", "hours", body.expiresIn / 3600)
        if most >= 1 {
            fields += """
                <div class="field"><label for="expires">Ends after (\(unit), at most \(most))</label>\
                <input id="expires" name="\(field)" type="number" min="1" max="\(most)" inputmode="numeric" aria-describedby="expires-hint">\
                <div class="hint" id="expires-hint">Empty: as asked, \(AccessRequestBody.words(forDuration: body.expiresIn)) from now.</div></div>
                """
        }
        if let asked = body.maxUses {
            fields +=
                "<div class=\"field\"><label for=\"max-uses\">Uses (at most \(asked))</label><input id=\"max-uses\" name=\"max_uses\" type=\"number\" min=\"1\" max=\"\(asked)\" inputmode=\"numeric\"></div>"
        } else {
            fields +=
                "<div class=\"field\"><label for=\"max-uses\">Uses (empty: unlimited, as asked)</label><input id=\"max-uses\" name=\"max_uses\" type=\"number\" min=\"1\" inputmode=\"numeric\"></div>"
        }
        var facts: [(String, String)] = [("Vendor", HTML.text(body.vendor.name))]
        if let site = body.vendor.site { facts.append(("Site", HTML.text(site))) }
        if let contact = body.vendor.contact { facts.append(("Contact", HTML.text(contact))) }
        if let hint = r.linkVendor { facts.append(("Link made for", HTML.text(hint))) }
        facts.append(("Vendor key", "<code>\(HTML.text(body.vendorKey))</code>"))
        facts.append(("Purpose", HTML.text(body.purpose)))
        facts.append(
            ("Asks for", HTML.text("\(AccessRequestBody.words(forDuration: body.expiresIn)), \(body.maxUses.map { "at most \($0) uses" } ?? "unlimited uses")"))
        )
        if let terms = body.terms { facts.append(("Terms", HTML.text([terms.id, terms.url].compactMap { $0 }.joined(separator: " ")))) }
        if let url = body.notifyURL { facts.append(("Webhook", HTML.text(url) + " <span class=\"hint\">(told when the share changes; no data)</span>")) }
        return confirm(
            title: "Approve the request from \(body.vendor.name)?", facts: facts,
            consequence:
                "A grant bound to this vendor's key is issued for the scopes you leave checked; the vendor fetches its token, sealed to its key, from the endpoint. You can narrow, never widen.",
            action: action, token: token, fields: fields, button: "Approve and issue the grant", danger: false, back: "/requests")
    }

    static func deny(_ r: AccessRequest, action: String, token: String) -> String {
        let vendor = r.body?.vendor.name ?? "an unreadable request"
        let fields = """
            <div class="field"><label for="reason">Reason (optional, kept in your history; the vendor sees only “denied”)</label>\
            <input id="reason" name="reason" type="text" maxlength="200" autocomplete="off"></div>
            """
        return confirm(
            title: "Deny the request from \(vendor)?",
            facts: [("Request", "<code>\(HTML.text(r.id))</code>"), ("Asks for", HTML.text(r.body?.scopes.joined(separator: ", ") ?? r.problem ?? "?"))],
            consequence: "The vendor is told the request was denied. Nothing is shared.", action: action, token: token, fields: fields,
            button: "Deny the request", danger: true, back: "/requests")
    }

    static func close(_ c: SupportCase, vendor: String, action: String, token: String) -> String {
        let fields = """
            <div class="field"><label for="note">Closing note (optional)</label><input id="note" name="note" type="text" maxlength="500" autocomplete="off"></div>
            """
        return confirm(
            title: "Close the case “\(c.subject)”?",
            facts: [
                ("Vendor", HTML.text(vendor)), ("Status", c.status.rawValue), ("Follow up", c.followUp.map { "\($0)" } ?? "none"),
                ("Opened", Shown.timeElement(c.openedAt, dayOnly: true)),
            ],
            consequence: "The case is closed for good; `vrm case reopen` can still reopen it.", action: action, token: token, fields: fields,
            button: "Close the case", danger: true, back: "/cases")
    }
}
