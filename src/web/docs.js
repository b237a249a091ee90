// /docs: RapiDoc sends "try it" requests to this server, with the token the page's
// sign-in keeps in this tab (if any) already filled in.
const doc = document.querySelector('rapi-doc');
doc.addEventListener('spec-loaded', () => {
  doc.setApiServer(location.origin);
  const token = sessionStorage.getItem('strata.token');
  if (token) doc.setApiKey('bearer', token);
});
