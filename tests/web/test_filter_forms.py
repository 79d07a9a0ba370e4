"""A first visit to a list page (no query string) shows the list, not a filter error."""

def test_first_visits_show_no_filter_errors(client, login):
    login("finance", "admin", "board")
    for url in ("/donations/donors", "/enterprises/", "/enterprises/dashboard", "/grants/awards/", "/donations/"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert "Not a valid choice" not in page.get_data(as_text=True), url
