-- bench/directory: :users users in one statement (the schema comes from the service's migrations).
-- Names from many countries, some accented; emails derived from them (ASCII); ~800 companies (20% none);
-- creation over five years in insertion order (as rows arrive in a real table), 60% changed since, 3%
-- soft-deleted; languages as a European SaaS might see them.
WITH words AS (
  SELECT
    ARRAY['James','Mary','John','Patricia','Robert','Jennifer','Michael','Linda','William','Elizabeth','David','Barbara',
          'Richard','Susan','Joseph','Jessica','Thomas','Sarah','Charles','Karen','Daniel','Nancy','Matthew','Lisa',
          'Anthony','Betty','Mark','Sandra','Paul','Ashley','Steven','Emily','Andrew','Donna','Joshua','Michelle',
          'José','María','Zoë','Émile','Chloé','François','Hélène','Jürgen','Björn','Søren','Łukasz','Małgorzata',
          'Noémie','Mónica','Andrés','Íñigo','Ana','Luca','Giulia','Matteo','Sofia','Lars','Ingrid','Sven',
          'Aiko','Hiroshi','Wei','Mei','Priya','Arjun','Fatima','Omar','Ibrahim','Amara','Kwame','Olga',
          'Dmitri','Katarzyna','Piotr','Ольга','Zeynep','Mehmet','Nikolaj','Åsa','Ødegaard','Renée','Loïc','Anaïs'] AS firsts,
    ARRAY['Smith','Johnson','Williams','Brown','Jones','Garcia','Miller','Davis','Rodriguez','Martinez','Hernandez',
          'Lopez','Gonzalez','Wilson','Anderson','Thomas','Taylor','Moore','Jackson','Martin','Lee','Perez','Thompson',
          'White','Harris','Sanchez','Clark','Ramirez','Lewis','Robinson','Müller','Schmidt','Schneider','Fischer',
          'Weber','Meyer','Wagner','Becker','Dubois','Lefèvre','Moreau','Girard','Bonnet','Núñez','Gómez','Peña',
          'Rossi','Russo','Ferrari','Esposito','Bianchi','Nowak','Kowalski','Wiśniewski','Wójcik','Kowalczyk',
          'Jensen','Nielsen','Hansen','Sørensen','Andersson','Johansson','Karlsson','Nilsson','Eriksson','Öberg',
          'Sato','Suzuki','Takahashi','Tanaka','Wang','Li','Zhang','Liu','Chen','Singh','Kumar','Patel','Khan',
          'Yılmaz','Kaya','Demir','Ivanov','Petrov','Okafor','Mensah','Dupont','Laurent','Faure','Čapek','Dvořák'] AS lasts,
    ARRAY['Acme','Globex','Initech','Umbrella','Stark','Wayne','Nordic','Alpine','Baltic','Atlas','Orion','Vertex',
          'Quantum','Pioneer','Summit','Horizon','Evergreen','Bluefin','Redwood','Silverline','Ironbridge','Lumen',
          'Société','Brücken','Fjäll','Crédit','Öresund','Kraków','Zürich','Málaga','Nova','Helix','Cobalt','Aurora',
          'Sterling','Harbor','Granite','Juniper','Maple','Cedar'] AS brands,
    ARRAY['Labs','Systems','Group','Consulting','Partners','Technologies','Health','Logistics','Media','Energy',
          'Finance','Analytics','Robotics','Software','Studios','Holdings','Ventures','Solutions','GmbH','SA'] AS kinds,
    ARRAY['en','en','en','en','en','de','de','fr','fr','es','pt-BR','it','nl','pl','sv','da','ja','tr'] AS languages,
    ARRAY['UTC','Europe/Berlin','Europe/Paris','Europe/London','America/New_York','Asia/Tokyo'] AS zones,
    ARRAY['gmail.com','outlook.com','yahoo.com','proton.me','gmx.de','web.de','orange.fr'] AS mailers
), people AS (
  SELECT g,
         firsts[1 + floor(random() * array_length(firsts, 1))::int] AS first_name,
         lasts[1 + floor(random() * array_length(lasts, 1))::int] AS last_name,
         CASE WHEN random() < 0.8
              THEN brands[1 + floor(random() * array_length(brands, 1))::int] || ' ' || kinds[1 + floor(random() * array_length(kinds, 1))::int]
         END AS company,
         languages[1 + floor(random() * array_length(languages, 1))::int] AS language,
         zones[1 + floor(random() * array_length(zones, 1))::int] AS zone,
         mailers[1 + floor(random() * array_length(mailers, 1))::int] AS mailer,
         now() - interval '5 years' * (1 - g::float8 / :users) + random() * interval '1 minute' AS created,
         random() AS changed,
         random() < 0.03 AS deleted
  FROM words, generate_series(1, :users) AS g
), rows AS (
  SELECT p.*,
         CASE WHEN changed < 0.6 THEN created + changed / 0.6 * (now() - created) ELSE created END AS updated,
         lower(unaccent(first_name || '.' || last_name)) || g ||
           '@' || coalesce(lower(regexp_replace(unaccent(company), '[^A-Za-z]+', '', 'g')) || '.example', mailer) AS address
  FROM people AS p
)
INSERT INTO users (id, keycloak_id, email, status, full_name, company_name, interviews_created, interviews_active,
                   candidates_total, storage_used, preferences, version, created_at, updated_at, deleted_at)
SELECT gen_random_uuid(), 'kc-bench-' || g, address, CASE WHEN deleted THEN 'deleted' ELSE 'active' END,
       first_name || ' ' || last_name, company, g % 40, g % 5, g % 300, (g % 1000) * 1048576,
       jsonb_build_object('language', language, 'timezone', zone,
                          'notifications', jsonb_build_object('email', true, 'productNews', g % 3 = 0, 'interviewReminders', true)),
       CASE WHEN changed < 0.6 THEN 2 + g % 7 ELSE 1 END, created, updated, CASE WHEN deleted THEN updated END
FROM rows;
