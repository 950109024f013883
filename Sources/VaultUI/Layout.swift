import Foundation

/// The frame every page shares: a skip link, the views' navigation, the stop button, the
/// flash message of the last action, and the page's own content in `<main>`.
enum Layout {
    enum View: String, CaseIterable, Sendable {
        case exposure, history, relationships, cases, requests

        var title: String {
            switch self {
            case .exposure: "Exposure"
            case .history: "Share history"
            case .relationships: "Relationships"
            case .cases: "Cases"
            case .requests: "Requests"
            }
        }
        var path: String { "/" + rawValue }
    }

    static func page(
        title: String, current: View?, pendingRequests: Int, flash: (text: String, problem: Bool)?, stopToken: String, idleMinutes: Int,
        body: String
    ) -> String {
        var html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="referrer" content="same-origin"><title>\(HTML.text(title)) — VRM Vault</title>
            <link rel="stylesheet" href="/assets/style.css"><link rel="icon" href="/assets/icon.svg" type="image/svg+xml"></head>
            <body><a class="skip" href="#main">Skip to content</a>
            <header class="top"><span class="brand">VRM Vault</span><nav aria-label="Views"><ul>
            """
        for view in View.allCases {
            let badge = view == .requests && pendingRequests > 0 ? " (\(pendingRequests) pending)" : ""
            html += "<li><a href=\"\(view.path)\"\(view == current ? " aria-current=\"page\"" : "")>\(view.title)\(badge)</a></li>"
        }
        html += """
            </ul></nav><form method="post" action="/stop"><input type="hidden" name="token" value="\(HTML.text(stopToken))">\
            <button type="submit">Stop dashboard</button></form></header>
            <main id="main" tabindex="-1">
            """
        if let flash {
            html += "<div class=\"flash\(flash.problem ? " problem" : "")\" role=\"\(flash.problem ? "alert" : "status")\">\(HTML.text(flash.text))</div>"
        }
        html += body
        html += """
            </main><footer>Served by <code>vrm ui</code> on 127.0.0.1 only, to this browser only; it stops after \(idleMinutes) \
            minute\(idleMinutes == 1 ? "" : "s") without a request, or with the button above.</footer></body></html>
            """
        return html
    }

    /// A page with a message and no navigation: refusals and the stopped page.
    static func bare(title: String, message: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="same-origin"><title>\(HTML.text(title)) — VRM Vault</title>
        <link rel="stylesheet" href="/assets/style.css"></head>
        <body><main id="main"><h1>\(HTML.text(title))</h1><p>\(HTML.text(message))</p></main></body></html>
        """
    }
}
